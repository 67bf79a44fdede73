"""Process plumbing: parent-death signal, readiness probe, killing a host's namespace.

Every process of a test host (the sshd listener, per-connection sshd children and
whatever they run) lives in that host's private mount namespace, so stopping a
host means killing every process whose ``/proc/PID/ns/mnt`` is that namespace.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterable

PR_SET_PDEATHSIG = 1


def parent_death_signal(signum: int = signal.SIGTERM) -> Callable[[], None] | None:
    """A ``preexec_fn`` that signals the child if the test process dies, or ``None``.

    Isolated hosts use SIGKILL: ``unshare --fork`` ignores SIGTERM while it waits.

    Linux ties the signal to the *thread* that forked, so it is only used from
    the main thread (where pytest runs fixtures).
    """
    if threading.current_thread() is not threading.main_thread():
        return None
    libc = ctypes.CDLL(None, use_errno=True)

    def set_signal() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0)

    return set_signal


def ssh_banner_ready(address: str, port: int, timeout: float = 1.0) -> bool:
    """True once something on ``address:port`` greets with an ``SSH-`` banner."""
    try:
        with socket.create_connection((address, port), timeout=timeout) as conn:
            banner = b""
            while not banner.endswith(b"\n") and len(banner) < 256:
                chunk = conn.recv(256)
                if not chunk:
                    return False
                banner += chunk
            return banner.startswith(b"SSH-")
    except OSError:
        return False


def mount_namespace(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/mnt")
    except OSError:
        return None


def is_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def pids_in_namespaces(namespaces: set[str]) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and mount_namespace(int(entry)) in namespaces:
            pids.append(int(entry))
    return pids


def _signal_all(pids: Iterable[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


def kill_namespaces(namespaces: Iterable[str], grace: float = 3.0) -> None:
    """SIGTERM every process in the given mount namespaces, SIGKILL what is left."""
    targets = set(namespaces) - {mount_namespace(os.getpid()), mount_namespace(1), None}
    if not targets:
        return
    pids = [pid for pid in pids_in_namespaces(targets) if pid != os.getpid()]
    _signal_all(pids, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        pids = [pid for pid in pids if is_alive(pid)]
        if not pids:
            return
        time.sleep(0.02)
    _signal_all(pids_in_namespaces(targets), signal.SIGKILL)
