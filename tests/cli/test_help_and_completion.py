"""Help texts people can read (no Python types as metavars, defaults shown) and shell
completion that works (`--install-completion`, `--show-completion`, completing a command)."""

from __future__ import annotations

import re

import pytest

from deepctl.init_spec import EXAMPLES, InitOptions
from tests.cli.conftest import Invoke, Run, Sandbox
from tests.cli.test_cli import all_command_paths

PYTHON_METAVAR = re.compile(r"<(str|int|float|path|bool|list\[[^\]]*\]|int range|float range)>")


@pytest.mark.parametrize("path", all_command_paths(), ids=lambda p: " ".join(p) or "deepctl")
def test_no_help_shows_python_types_or_braces(cli: Invoke, path: list[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    text = cli(*path, "--help").stdout
    assert not PYTHON_METAVAR.search(text), text
    usage = text.splitlines()[0]
    assert "{" not in usage and "}" not in usage, usage


def test_init_help_shows_its_defaults_and_the_example_names(cli: Invoke,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    text = cli("init", "--help").stdout
    defaults = InitOptions(name="x")
    for value in ("cluster.yaml", defaults.user, defaults.identity_file, "gpu-lab"):
        assert value in text, (value, text)
    for name in EXAMPLES:
        assert re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text), (name, text)


def test_show_completion_prints_a_script_and_completion_completes(run_deepctl: Run,
                                                                   sandbox: Sandbox) -> None:
    script = run_deepctl("--show-completion", "bash")
    assert script.returncode == 0, script.stderr
    assert "_DEEPCTL_COMPLETE" in script.stdout and "complete" in script.stdout
    done = run_deepctl(env=sandbox.env(_DEEPCTL_COMPLETE="complete_bash",
                                       COMP_WORDS="deepctl vali", COMP_CWORD="1"))
    assert done.stdout.split() == ["validate"], done.stdout + done.stderr


def test_install_completion_writes_into_the_users_shell_files(run_deepctl: Run,
                                                              sandbox: Sandbox) -> None:
    result = run_deepctl("--install-completion", "bash")
    assert result.returncode == 0, result.stderr
    assert "deepctl" in (sandbox.home / ".bashrc").read_text()
