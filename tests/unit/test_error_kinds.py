"""Every error kind and exit code the CLI can emit is documented in docs/exit-codes.md, in the
row of its code; `code` in a --json error always equals the exit code."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import deepctl
from deepctl.errors import DeepctlError

DOC = Path(__file__).resolve().parents[2] / "docs" / "exit-codes.md"


def every_error_class() -> list[type[DeepctlError]]:
    """DeepctlError and every subclass defined anywhere in deepctl (all modules imported)."""
    for module in pkgutil.walk_packages(deepctl.__path__, "deepctl."):
        if not module.name.endswith("__main__"):  # runs the CLI
            importlib.import_module(module.name)
    seen: list[type[DeepctlError]] = []
    todo: list[type[DeepctlError]] = [DeepctlError]
    while todo:
        cls = todo.pop()
        if cls not in seen:
            seen.append(cls)
            todo.extend(cls.__subclasses__())
    return seen


def documented_codes() -> dict[str, int]:
    """`Class` (`kind`) -> the code of the first table's row that names it."""
    table = DOC.read_text(encoding="utf-8").split("## By command")[0]
    out: dict[str, int] = {}
    for row in table.splitlines():
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].isdigit():
            for name, kind in re.findall(r"`(\w+)` \(`([\w-]+)`\)", cells[2]):
                out[f"{name}/{kind}"] = int(cells[0])
    return out


def test_every_error_kind_is_documented_with_its_exit_code() -> None:
    documented = documented_codes()
    classes = every_error_class()
    assert {c.__name__ for c in classes} >= {"InventoryImportError", "InternalError", "Canceled"}
    missing = []
    for cls in classes:
        # a class is documented by its own row or, when it only refines one (a subclass with
        # the same kind and code), by its parent's
        names = [c.__name__ for c in cls.__mro__ if isinstance(c, type)
                 and issubclass(c, DeepctlError) and c.kind == cls.kind
                 and c.exit_code == cls.exit_code]
        if not any(documented.get(f"{name}/{cls.kind}") == cls.exit_code for name in names):
            missing.append(f"{cls.__name__} (`{cls.kind}`, exit {cls.exit_code})")
    assert missing == []
