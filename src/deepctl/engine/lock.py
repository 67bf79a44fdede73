"""The per-cluster lock: an OS file lock (``flock``) on ``<state>/lock``.

The lock file also says who holds it (pid, host, since, command), so a second deploy can
say "locked by PID on HOST since TIME". The OS drops the lock when its holder dies, so a
lock left by a dead process is simply taken over; we say so when its owner record is left.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

from deepctl.errors import LockHeld, StateError
from deepctl.state import StateDir


@dataclass(frozen=True)
class LockOwner:
    pid: int
    host: str
    since: str
    command: str

    def describe(self) -> str:
        return f"locked by PID {self.pid} on {self.host} since {self.since} ({self.command})"


@dataclass
class ClusterLock:
    """A held lock; ``taken_over`` is the owner record of a dead holder it replaced, if any."""

    handle: IO[str]
    owner: LockOwner
    taken_over: LockOwner | None = None

    def release(self) -> None:
        if self.handle.closed:
            return
        with contextlib.suppress(OSError):
            self.handle.seek(0)
            self.handle.truncate()
            self.handle.flush()
        fcntl.flock(self.handle.fileno(), fcntl.LOCK_UN)
        self.handle.close()


def _read_owner(handle: IO[str]) -> LockOwner | None:
    handle.seek(0)
    try:
        data: Any = json.loads(handle.read() or "null")
        return LockOwner(int(data["pid"]), str(data["host"]), str(data["since"]),
                         str(data.get("command", "deepctl")))
    except (ValueError, KeyError, TypeError):
        return None


def acquire(state: StateDir, command: str) -> ClusterLock:
    """Take the cluster lock at once, or raise :class:`LockHeld` naming its holder."""
    state.create()
    try:
        fd = os.open(state.lock_file, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise StateError(f"cannot open the lock file {state.lock_file}: {exc.strerror}") from None
    handle = os.fdopen(fd, "r+", encoding="utf-8")
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _read_owner(handle)
        handle.close()
        what = holder.describe() if holder else "locked by another deepctl process"
        raise LockHeld(
            f"cluster state {state.root} is {what}",
            hint="wait for it to finish (or stop it with Ctrl-C); deepctl takes the lock over "
            "by itself once that process is gone",
        ) from None
    previous = _read_owner(handle)
    owner = LockOwner(os.getpid(), socket.gethostname(),
                      datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), command)
    handle.seek(0)
    handle.truncate()
    handle.write(json.dumps(owner.__dict__) + "\n")
    handle.flush()
    return ClusterLock(handle, owner, taken_over=previous)


@contextlib.contextmanager
def cluster_lock(state: StateDir, command: str) -> Iterator[ClusterLock]:
    lock = acquire(state, command)
    try:
        yield lock
    finally:
        lock.release()
