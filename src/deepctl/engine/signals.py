"""Ctrl-C and SIGTERM during a run.

The first SIGINT or SIGTERM sets a :class:`CancelToken`: Ansible is canceled cleanly through
ansible-runner's ``cancel_callback``, the run is recorded as canceled, the lock released and
deepctl exits 130. A second signal within :data:`HARD_STOP_WINDOW_S` kills every process
deepctl started (SIGKILL) and stops at once. The handlers in place before are restored.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

HARD_STOP_WINDOW_S = 5.0
SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclass
class CancelToken:
    """Whether the user asked to stop, and when."""

    canceled_at: float | None = None
    signal_name: str | None = None
    hard: bool = False  # a second signal came within HARD_STOP_WINDOW_S: stopped at once

    @property
    def canceled(self) -> bool:
        return self.canceled_at is not None

    def cancel(self, signal_name: str = "SIGINT") -> None:
        if self.canceled_at is None:
            self.canceled_at = time.monotonic()
            self.signal_name = signal_name


def descendants(pid: int) -> list[int]:
    """Every live descendant of ``pid`` (from /proc; empty where there is none)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            stat = entry.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 2:
            children.setdefault(int(fields[1]), []).append(int(entry.parent.name))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_descendants() -> int:
    """SIGKILL every live descendant of this process; how many were signalled."""
    killed = 0
    for pid in descendants(os.getpid()):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
            killed += 1
    return killed


def close_ssh_masters(control_dir: Path, wait_s: float = 3.0) -> None:
    """Stop the SSH multiplexing masters this run left, so no ssh outlives deepctl.

    ``ssh -O exit`` only asks; a master removes its socket as it exits, so wait (at most
    ``wait_s``) for the sockets to go.
    """
    try:
        sockets = [p for p in control_dir.iterdir() if p.is_socket()]
    except OSError:
        return
    for sock in sockets:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(["ssh", "-O", "exit", "-o", f"ControlPath={sock}", "deepctl-master"],
                           capture_output=True, timeout=5, check=False)
    deadline = time.monotonic() + wait_s
    while any(sock.exists() for sock in sockets) and time.monotonic() < deadline:
        time.sleep(0.05)


@contextlib.contextmanager
def cancel_on_signals(token: CancelToken, notify: Callable[[str], None] | None = None
                      ) -> Iterator[CancelToken]:
    """Route SIGINT/SIGTERM to ``token`` while the block runs; restore handlers after."""

    def say(message: str) -> None:
        if notify is not None:
            notify(message)
        else:
            sys.stderr.write(message + "\n")

    def handler(signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if token.canceled_at is not None and time.monotonic() - token.canceled_at <= HARD_STOP_WINDOW_S:
            token.hard = True
            killed = kill_descendants()
            say(f"{name} again within {HARD_STOP_WINDOW_S:.0f} s: stopping at once "
                f"(killed {killed} process(es) deepctl started)")
            raise KeyboardInterrupt
        token.canceled_at = None
        token.cancel(name)
        say(f"{name}: canceling (waiting for Ansible to stop; press Ctrl-C again within "
            f"{HARD_STOP_WINDOW_S:.0f} s to stop at once)")

    saved = {sig: signal.getsignal(sig) for sig in SIGNALS}
    for sig in SIGNALS:
        signal.signal(sig, handler)
    try:
        yield token
    finally:
        for sig, previous in saved.items():
            signal.signal(sig, previous if previous is not None else signal.SIG_DFL)
