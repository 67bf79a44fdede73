"""Recording of stand-in invocations: one JSON line per call in ``HOSTDIR/calls/<tool>.jsonl``."""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from pathlib import Path


def record_call(host_dir: Path, tool: str, argv: list[str], stdin: str | None = None) -> None:
    """Append ``{"argv", "cwd", "time", "stdin", "sudo"}`` for this invocation."""
    try:
        cwd = os.getcwd()
    except OSError:
        cwd = ""
    entry = {
        "argv": [tool, *argv],
        "cwd": cwd,
        "time": time.time(),
        "stdin": stdin,
        "sudo": "SUDO_COMMAND" in os.environ,
    }
    calls_dir = host_dir / "calls"
    calls_dir.mkdir(exist_ok=True)
    with open(calls_dir / f"{tool}.jsonl", "a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.write(json.dumps(entry) + "\n")


def read_stdin() -> str | None:
    """Read all of stdin (until EOF) unless it is a terminal or closed."""
    if sys.stdin is None or sys.stdin.closed or sys.stdin.isatty():
        return None
    return sys.stdin.buffer.read().decode("utf-8", errors="replace")


def not_modelled(tool: str, what: str) -> int:
    """Report, on stderr, that the stand-in does not model an invocation; exit status 2."""
    sys.stderr.write(
        f"{tool}: {what} is not modelled by the deepctl test-harness stand-in "
        f"(tests/harness/stubs/); extend the stand-in if product code needs it\n"
    )
    return 2
