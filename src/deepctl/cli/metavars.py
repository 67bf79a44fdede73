"""Help texts for people: metavars that name what to give, not Python types.

Typer shows an option's type when it has no metavar (``--only <list[str]>``,
``--concurrency <int range>``) and a required argument in braces (``{spec}``).
:class:`DeepctlTyper` makes every command a :class:`DeepctlCommand`, which gives each
parameter without a metavar one from :func:`metavar_for` (pure) and writes arguments as
``SPEC`` / ``[RUN]`` in the usage line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer
from typer.core import TyperArgument, TyperCommand, TyperOption
from typer.models import CommandFunctionType

# Options whose name does not say what value they take.
NAMED: dict[str, str] = {
    "from_stage": "STAGE", "only": "STAGE", "skip": "STAGE",
    "control_plane": "ADDR", "worker": "ADDR", "gpu_worker": "ADDR", "address": "ADDR",
    "internal_address": "ADDR", "label": "KEY=VALUE", "taint": "KEY=VALUE:EFFECT",
    "state_dir": "DIR", "output": "PATH", "identity_file": "PATH", "ssh_key": "PATH",
    "limit": "N", "concurrency": "N", "timeout": "SECONDS", "interval": "SECONDS",
    "repo": "URL", "ssh_user": "USER", "user": "USER",
    "files_from": "URL", "images_from": "REGISTRY", "charts_from": "URL", "registry": "HOST:PORT",
    "dest": "DIR", "mirror": "DIR", "authfile": "PATH", "workers": "N", "arch": "ARCH",
}
BY_TYPE = {"path": "PATH", "int": "N", "int range": "N", "float": "NUMBER",
           "float range": "NUMBER"}


def metavar_for(name: str, shown_type: str) -> str:
    """Pure: the metavar of parameter ``name`` whose Typer type display is ``shown_type``."""
    if name in NAMED:
        return NAMED[name]
    bare = shown_type.strip("<>")
    return BY_TYPE.get(bare, name.upper().replace("_", "-"))


class DeepctlArgument(TyperArgument):
    """An argument listed as ``SPEC  The cluster spec file`` (no ``<path>`` after it)."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return None


class DeepctlCommand(TyperCommand):
    """A command whose help names values (``--only STAGE``) and arguments (``SPEC``)."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)
        for param in params:
            if param.metavar is not None or getattr(param, "is_flag", False):
                continue
            if isinstance(param, TyperArgument):
                param.__class__ = DeepctlArgument
                param.metavar = (param.name or "value").upper()
            elif isinstance(param, TyperOption):
                param.metavar = metavar_for(param.name or "", param.display_type(ctx))
        return params

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                name = param.metavar or (param.name or "value").upper()
                pieces.append(name if param.required else f"[{name}]")
            else:
                pieces.extend(param.get_usage_pieces(ctx))
        return pieces


class DeepctlTyper(typer.Typer):
    """``typer.Typer`` whose commands are :class:`DeepctlCommand` unless told otherwise."""

    def command(
        self, name: str | None = None, *, cls: type[TyperCommand] | None = None, **kwargs: Any
    ) -> Callable[[CommandFunctionType], CommandFunctionType]:
        return super().command(name, cls=cls or DeepctlCommand, **kwargs)
