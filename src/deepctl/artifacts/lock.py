"""One pull at a time per mirror directory: an exclusive lock on ``DIR/.deepctl-pull.lock``.

The lock is ``flock`` on a file that holds the owner's pid, so a crashed pull leaves no stale
lock (the kernel drops it with the process) and a second pull says who holds it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from deepctl.errors import ArtifactError

LOCK_NAME = ".deepctl-pull.lock"


@contextlib.contextmanager
def mirror_lock(dest: Path) -> Iterator[None]:
    """Hold the mirror directory ``dest`` for this process; refuse if another pull holds it."""
    path = dest / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", errors="replace").strip() or "unknown"
            raise ArtifactError(
                f"another pull is using {dest}, pid {holder}",
                hint="wait for it to finish (or stop it), then run this pull again; two pulls "
                "into one directory would overwrite each other's images") from None
        pid = f"{os.getpid()}\n".encode()
        with contextlib.suppress(OSError):  # a full disk: the lock holds, its pid goes unsaid
            os.pwrite(fd, pid.ljust(max(os.fstat(fd).st_size, len(pid))), 0)
        yield
    finally:
        os.close(fd)
