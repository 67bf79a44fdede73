"""The one place where deepctl errors become messages and exit codes.

Commands are wrapped by :func:`command`; library code raises :class:`DeepctlError` and
never prints errors itself. Tracebacks only with ``--debug`` (or ``DEEPCTL_DEBUG=1``).
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer

from deepctl.consoles import escape, make_console
from deepctl.errors import DeepctlError, ExitCode, InternalError

if TYPE_CHECKING:  # rich is imported when something is printed, not at start-up
    from rich.console import Console

P = ParamSpec("P")
R = TypeVar("R")

_state = {"debug": False}


def set_debug(value: bool) -> None:
    _state["debug"] = value or os.environ.get("DEEPCTL_DEBUG", "") not in ("", "0")


def debug_enabled() -> bool:
    return _state["debug"] or os.environ.get("DEEPCTL_DEBUG", "") not in ("", "0")


def stdout() -> Console:
    return make_console(soft_wrap=True)


def stderr() -> Console:
    return make_console(stderr=True, soft_wrap=True)


def print_json(data: Any, *, one_line: bool = False) -> None:
    """``data`` as JSON on stdout: indented, or on one line (JSON-lines output, errors)."""
    text = json.dumps(data, indent=None if one_line else 2, sort_keys=False, default=str)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def render_error(error: DeepctlError, as_json: bool) -> None:
    if as_json:
        payload = {
            "error": {
                "kind": error.kind,
                "code": error.exit_code,
                "message": error.message,
                "hint": error.hint,
                **error.details(),
            }
        }
        print_json(payload, one_line=True)  # also ends a JSON-lines stream (deploy --json)
        return
    console = stderr()
    problems = getattr(error, "problems", [])
    for problem in problems:
        style = "yellow" if problem.severity == "warning" else "red"
        console.print(f"[{style}]{escape(problem.format())}[/]")
    console.print(f"[bold red]error:[/] {escape(error.message)}")
    if error.hint:
        console.print(f"[bold]hint:[/] {escape(error.hint)}")


def command(fn: Callable[P, R]) -> Callable[P, R]:
    """Wrap a Typer command: DeepctlError -> message + exit code; Ctrl-C -> 130."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        as_json = bool(kwargs.get("json_output", False))
        try:
            return fn(*args, **kwargs)
        except DeepctlError as error:
            if debug_enabled():
                stderr().print_exception()
            render_error(error, as_json)
            raise typer.Exit(error.exit_code) from None
        except KeyboardInterrupt:
            stderr().print("[bold red]canceled[/]")
            raise typer.Exit(ExitCode.CANCELED) from None
        except (typer.Exit, typer.Abort):
            raise
        except Exception as exc:  # an unexpected bug: say so without a traceback
            if debug_enabled():
                raise
            internal = InternalError(
                f"internal error: {type(exc).__name__}: {exc}",
                hint="this is a bug in deepctl; rerun with --debug for the traceback "
                "and report it",
            )
            render_error(internal, as_json)
            raise typer.Exit(ExitCode.INTERNAL) from None

    return wrapper
