"""Asking before changing hosts: on a terminal, never with ``--yes``, and never silently
skipped: off a terminal (cron, CI, ``< /dev/null``) a command that would ask refuses.

Declining (``n``, Enter, Ctrl-C or end of input at the question) is :class:`Canceled`,
exit 130, for every command (docs/exit-codes.md).
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Iterable

import typer

from deepctl.errors import Canceled, UsageError


def command_line(words: Iterable[object]) -> str:
    """``words`` as a shell command line that runs as printed (quoted where needed)."""
    return shlex.join(str(w) for w in words)


def executor_words(executor: str | None) -> list[str]:
    """``--executor ADDRESS`` as typed (none without it), for the commands printed."""
    return ["--executor", executor] if executor is not None else []


def confirm(question: str, yes: bool, command: list[object]) -> None:
    """Ask ``question`` on a terminal unless ``yes``; ``command`` is the command as typed,
    without ``--yes``. Off a terminal, refuse (:class:`UsageError`, exit 2) with the command
    that runs it unattended; on "no", raise :class:`Canceled` (exit 130)."""
    if yes:
        return
    unattended = command_line([*command, "--yes"])
    if not sys.stdin.isatty():
        raise UsageError(
            f"`{command_line(command[:2])}` changes hosts and asks first, but stdin is not a "
            "terminal, so there is no one to ask: nothing was done",
            hint=f"pass --yes to run it unattended: `{unattended}`")
    try:
        agreed = typer.confirm(question, default=False)
    except typer.Abort:  # Ctrl-C or end of input at the question: a "no"
        agreed = False
    if not agreed:
        raise Canceled("declined: nothing was changed",
                       hint=f"pass --yes to skip this question: `{unattended}`")
