"""Fixtures for CLI tests: the real app through Typer's CliRunner, or the installed
``deepctl`` script as a subprocess, with HOME, the cache, the working directory and the
terminal width isolated in a temporary directory."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from deepctl.cli.application import app
from tests.specs import MINIMAL_SPEC

VENV_BIN = Path(sys.executable).parent
DEEPCTL = VENV_BIN / "deepctl"



@dataclass
class Sandbox:
    root: Path
    home: Path
    cache: Path
    work: Path

    def env(self, **extra: str) -> dict[str, str]:
        """Environment for a subprocess: the sandbox's HOME and cache, no colours."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DEEPCTL_", "ANSIBLE_"))}
        env.update(HOME=str(self.home), XDG_CACHE_HOME=str(self.cache), COLUMNS="200",
                   NO_COLOR="1", TERM="dumb")
        env.update(extra)
        return env

    def spec(self, text: str = MINIMAL_SPEC, name: str = "cluster.yaml") -> Path:
        path = self.work / name
        path.write_text(text, encoding="utf-8")
        return path


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    box = Sandbox(tmp_path, tmp_path / "home", tmp_path / "cache", tmp_path / "work")
    for path in (box.home, box.cache, box.work):
        path.mkdir()
    for name in list(os.environ):
        if name.startswith("DEEPCTL_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(box.home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(box.cache))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(box.work)
    return box


Invoke = Callable[..., Result]


@pytest.fixture
def cli(sandbox: Sandbox) -> Invoke:
    """cli(*args, input=None) -> Result: the real app in-process, output captured."""

    def invoke(*args: str, input: str | None = None) -> Result:
        result = CliRunner().invoke(app, list(args), input=input)
        assert "Traceback" not in result.output
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result

    return invoke


Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run_deepctl(sandbox: Sandbox) -> Run:
    """run_deepctl(*args, env=None, timeout=60) -> CompletedProcess: the installed script."""

    def run(*args: str, env: dict[str, str] | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(DEEPCTL), *args], capture_output=True, text=True, cwd=sandbox.work,
            env=env or sandbox.env(), timeout=timeout, check=False,
        )
        assert "Traceback" not in result.stdout + result.stderr
        return result

    return run
