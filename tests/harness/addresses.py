"""Loopback addresses and ports for test hosts (only ever 127.0.0.0/8).

Addresses come from two pools so that the session-scoped shared farm and the
per-test farms never collide. Each leased address is also guarded by an
``flock``-ed file, so parallel pytest processes (e.g. xdist workers) do not
hand out the same address either.
"""

from __future__ import annotations

import errno
import fcntl
import os
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path

POOLS: dict[str, range] = {"session": range(11, 100), "function": range(100, 250)}
UNREACHABLE_ADDRESS = "127.0.0.250"
SSH_PORT = 22
LOCK_DIR = Path(tempfile.gettempdir()) / "deepctl-harness-addresses"


@dataclass(frozen=True)
class Endpoint:
    address: str
    port: int


class AddressLease:
    """A loopback address reserved for one test host until :meth:`release`."""

    def __init__(self, address: str, lock_fd: int) -> None:
        self.address = address
        self._lock_fd: int | None = lock_fd

    def release(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


def lease_address(pool: str) -> AddressLease:
    LOCK_DIR.mkdir(exist_ok=True)
    for last_octet in POOLS[pool]:
        address = f"127.0.0.{last_octet}"
        fd = os.open(LOCK_DIR / address, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return AddressLease(address, fd)
    raise RuntimeError(f"no free loopback address left in the {pool!r} pool")


def can_bind(address: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address, port))
        except OSError:
            return False
    return True


def free_port(address: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((address, 0))
        return int(probe.getsockname()[1])


def preferred_port(address: str) -> int:
    """Port 22 when it can be bound on ``address``, otherwise a free port."""
    return SSH_PORT if can_bind(address, SSH_PORT) else free_port(address)


def refuses_connections(address: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        return probe.connect_ex((address, port)) == errno.ECONNREFUSED


def unreachable_endpoint() -> Endpoint:
    """A loopback endpoint where nothing listens (port 22 unless a wildcard sshd holds it)."""
    for port in (SSH_PORT, free_port(UNREACHABLE_ADDRESS)):
        if refuses_connections(UNREACHABLE_ADDRESS, port):
            return Endpoint(UNREACHABLE_ADDRESS, port)
    raise RuntimeError(f"could not find a closed port on {UNREACHABLE_ADDRESS}")
