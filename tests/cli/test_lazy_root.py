"""The `deepctl` program builds only the command it runs (deepctl.cli.lazy_root): the same
help, parsing, suggestions and listing as Typer's build of every command, without the cost."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import typer.main
import typer.testing
from typer.testing import CliRunner

from deepctl.cli.application import app
from deepctl.cli.lazy_root import LazyCommands, lazy_root
from tests.cli.test_cli import all_command_paths

Build = Callable[[typer.Typer], Any]


def run_with(build: Build, args: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.setattr(typer.testing, "_get_command", build)
    result = CliRunner().invoke(app, args, terminal_width=100)
    return result.exit_code, result.output


@pytest.mark.parametrize("path", all_command_paths(), ids=lambda p: " ".join(p) or "deepctl")
def test_every_help_is_the_one_the_eager_build_writes(path: list[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    eager = run_with(typer.main.get_command, [*path, "--help"], monkeypatch)
    lazy = run_with(lazy_root, [*path, "--help"], monkeypatch)
    assert eager[0] == 0
    assert lazy == eager


@pytest.mark.parametrize("args", [
    ["valdate", "x.yaml"],  # a typo: the suggestion comes from the names alone
    ["deploy"],  # a missing argument
    ["status", "x.yaml", "--nodes"],  # an option without its value
    ["kubespray", "fecth"],
    ["--no-such-option"],
    [],
])
def test_usage_errors_are_the_eager_builds(args: list[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    eager = run_with(typer.main.get_command, args, monkeypatch)
    assert eager[0] == 2, eager
    assert run_with(lazy_root, args, monkeypatch) == eager


def test_the_listing_builds_no_command_and_a_command_builds_only_itself() -> None:
    root = lazy_root(app)
    commands = root.commands
    assert isinstance(commands, LazyCommands)
    assert commands.built() == []
    with pytest.raises(SystemExit) as listed:
        root.main(["--help"], prog_name="deepctl")
    assert listed.value.code == 0
    assert commands.built() == []
    with pytest.raises(SystemExit) as helped:
        root.main(["validate", "--help"], prog_name="deepctl")
    assert helped.value.code == 0
    assert commands.built() == ["validate"]
    assert list(commands) == list(typer.main.get_group(app).commands)
