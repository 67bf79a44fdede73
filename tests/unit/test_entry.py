"""Issue 22: a Ctrl-C at any moment, even while Python still loads deepctl, exits 130 with
"canceled" and no traceback (deepctl.entry, the program's entry point)."""

from __future__ import annotations

import signal
import sys
import types

import pytest

from deepctl import entry


class _Interrupted(types.ModuleType):
    def __getattr__(self, name: str) -> object:
        raise KeyboardInterrupt  # Ctrl-C while `from deepctl.cli.application import main` runs


def test_ctrl_c_while_loading_exits_130_without_a_traceback(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "deepctl.cli.application", _Interrupted("deepctl.cli.application"))
    previous = signal.getsignal(signal.SIGINT)
    try:
        with pytest.raises(SystemExit) as done:
            entry.main()
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN  # a second press: ignored
    finally:
        signal.signal(signal.SIGINT, previous)
    assert done.value.code == 130
    assert capsys.readouterr().err == "canceled\n"


def test_the_program_and_python_m_deepctl_start_through_entry() -> None:
    from importlib.metadata import entry_points

    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "deepctl"]
    assert script.value == "deepctl.entry:main"
