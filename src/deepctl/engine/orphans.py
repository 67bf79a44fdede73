"""Ansible processes left running by a deepctl that died (SIGKILL, OOM, a lost terminal).

ansible-runner starts ``ansible-playbook`` in its own session, so it outlives a deepctl that
is killed outright and would keep changing hosts while a new run holds the lock. When the
lock is taken over from a dead holder, such leftovers are found by their command line
(every deepctl-run playbook names an inventory or run directory inside the state directory)
and stopped before the new run starts.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path


def _cmdline(pid_dir: Path) -> list[str]:
    try:
        raw = (pid_dir / "cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def is_leftover(argv: list[str], state_root: str) -> bool:
    """Pure: is this command line an Ansible process working on ``state_root``?"""
    if not argv or not any("ansible" in Path(part).name for part in argv[:3]):
        return False
    return any(state_root in part for part in argv[1:])


def find_leftovers(state_root: Path, proc: Path = Path("/proc")) -> list[int]:
    root = str(state_root)
    me = os.getpid()
    found = []
    for pid_dir in proc.glob("[0-9]*"):
        pid = int(pid_dir.name)
        if pid != me and is_leftover(_cmdline(pid_dir), root):
            found.append(pid)
    return sorted(found)


def stop_leftovers(state_root: Path, grace_s: float = 5.0) -> list[int]:
    """Stop (TERM, then KILL after ``grace_s``) Ansible processes left on this state dir."""
    pids = find_leftovers(state_root)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    alive = list(pids)
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = [pid for pid in alive if Path(f"/proc/{pid}").exists()]
    for pid in alive:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    return pids
