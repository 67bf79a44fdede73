"""The root command group, built lazily: only the command that runs becomes a Click command.

Before it parses the command line, Typer turns every command function into a Click command
(signature, annotations, one parameter object per option). With some twenty-five commands that
was most of what ``deepctl --help`` spent beyond importing typer (bench/startup.py).
:func:`lazy_root` builds the root group with its own options and a :class:`LazyCommands`
mapping, which makes a command the first time it is looked up. The listing in
``deepctl --help`` needs only names and docstrings, so it is written from light stand-ins.

The commands it makes are Typer's own (``get_command_from_info``, ``get_group_from_info``):
``deepctl X --help``, parsing and completion are those of the eager build, and
tests/cli/test_lazy_root.py compares the two for every command.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Iterator, MutableMapping

import typer
from typer import _click
from typer import main as typer_main
from typer.core import TyperCommand, TyperGroup
from typer.models import CommandInfo, DefaultPlaceholder, TyperInfo

Build = Callable[[], _click.Command]


class LazyCommands(MutableMapping[str, _click.Command]):
    """Commands by name, in the order they were declared; each is built on first lookup."""

    def __init__(self, builders: dict[str, Build], listing: dict[str, _click.Command]) -> None:
        self._builders = builders
        self._listing = listing  # what the group's help lists: name, help, hidden, deprecated
        self._built: dict[str, _click.Command] = {}

    def __getitem__(self, name: str) -> _click.Command:
        if name not in self._built:
            self._built[name] = self._builders[name]()  # KeyError: no such command
        return self._built[name]

    def __setitem__(self, name: str, command: _click.Command) -> None:
        self._built[name] = command
        self._builders.setdefault(name, lambda: command)
        self._listing[name] = command

    def __delitem__(self, name: str) -> None:
        del self._builders[name]
        self._listing.pop(name, None)
        self._built.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._builders)

    def __len__(self) -> int:
        return len(self._builders)

    def built(self) -> list[str]:
        """The commands made so far."""
        return list(self._built)

    def listing(self) -> dict[str, _click.Command]:
        """Each command as the group's help lists it, built or not."""
        return {name: self._built.get(name, self._listing[name]) for name in self._builders}


class LazyGroup(TyperGroup):
    """A TyperGroup that lists its commands without building them (see the module text)."""

    def list_commands(self, ctx: _click.Context) -> list[str]:
        return list(self.commands)  # names only: TyperGroup's reads every value

    def format_commands(self, ctx: _click.Context, formatter: _click.HelpFormatter) -> None:
        if not isinstance(self.commands, LazyCommands):
            super().format_commands(ctx, formatter)
            return
        # Typer's own listing code, run over the stand-ins.
        TyperGroup(name=self.name, commands=self.commands.listing()).format_commands(
            ctx, formatter)


def _value(value: object) -> object:
    return value.value if isinstance(value, DefaultPlaceholder) else value


def _command_entry(app: typer.Typer, info: CommandInfo) -> tuple[str, Build, _click.Command]:
    assert info.callback is not None, "a command has a callback"
    name = info.name or typer_main.get_command_name(info.callback.__name__)
    help_text = inspect.getdoc(info.callback) if info.help is None else inspect.cleandoc(info.help)

    def build() -> _click.Command:
        return typer_main.get_command_from_info(
            info, pretty_exceptions_short=app.pretty_exceptions_short,
            rich_markup_mode=app.rich_markup_mode)

    listed = TyperCommand(name=name, help=help_text, short_help=info.short_help,
                            hidden=info.hidden, deprecated=info.deprecated)
    return name, build, listed


def _group_entry(app: typer.Typer, info: TyperInfo) -> tuple[str, Build, _click.Command]:
    solved = typer_main.solve_typer_info_defaults(info)
    name = str(solved.name or "")
    assert name, "every sub-application of deepctl is added with a name"

    def build() -> _click.Command:
        return typer_main.get_group_from_info(
            info, pretty_exceptions_short=app.pretty_exceptions_short,
            rich_markup_mode=app.rich_markup_mode, suggest_commands=app.suggest_commands)

    listed = TyperCommand(
        name=name, help=str(_value(solved.help) or ""),
        short_help=_value(solved.short_help),  # type: ignore[arg-type]
        hidden=bool(_value(solved.hidden)),
        deprecated=_value(solved.deprecated),  # type: ignore[arg-type]
    )
    return name, build, listed


def lazy_root(app: typer.Typer) -> TyperGroup:
    """The Click group ``app()`` would run, with each command built only when it is used."""
    builders: dict[str, Build] = {}
    listing: dict[str, _click.Command] = {}
    entries = [_command_entry(app, info) for info in app.registered_commands]
    entries += [_group_entry(app, info) for info in app.registered_groups]
    for name, build, listed in entries:
        builders[name] = build
        listing[name] = listed
    shell = copy.copy(app)  # the root's own callback and options, none of its commands
    shell.registered_commands = []
    shell.registered_groups = []
    group = typer_main.get_group_from_info(
        TyperInfo(shell), pretty_exceptions_short=app.pretty_exceptions_short,
        rich_markup_mode=app.rich_markup_mode, suggest_commands=app.suggest_commands)
    group.__class__ = LazyGroup
    group.commands = LazyCommands(builders, listing)
    if app._add_completion:  # what typer.main.get_command adds to the root
        group.params.extend(typer_main.get_install_completion_arguments())
    return group
