"""What a test host looks like: :class:`HostProfile` and the data it refers to."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

HARNESS_DIR = Path(__file__).resolve().parent
GPU_PROFILES_DIR = HARNESS_DIR / "gpu_profiles"
OS_RELEASE_DIR = HARNESS_DIR / "os_release"

GPU_PROFILES = ("none", "h100x8", "a100-mig", "driver-missing")
OS_RELEASES = ("ubuntu-24.04", "ubuntu-22.04", "debian-12", "rocky-9", "alpine-3.20")

_HOSTNAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_MACHINE_ID = re.compile(r"^[0-9a-f]{32}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def random_machine_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class HostProfile:
    """One stand-in machine: a real sshd in its own mount + UTS namespace.

    ``machine_id=None`` draws a random id; give two hosts the same value to model
    cloned VMs. ``sudo_works=False`` binds a sudoers without any rule for root, so
    ``sudo -n true`` genuinely fails. ``env`` is added to every ssh session
    (sshd ``SetEnv``). ``tcp_forwarding`` is sshd's ``AllowTcpForwarding``:
    only a bastion needs it. ``isolated=True`` gives the host a root of its own (see
    ``tests/harness/isolated.py``): what it writes never reaches the real root, and it shows
    the real distribution (``os`` is then ignored), so real package installs work.
    """

    name: str
    gpu: str = "none"
    os: str = "ubuntu-24.04"
    machine_id: str | None = None
    sudo_works: bool = True
    env: Mapping[str, str] = field(default_factory=dict)
    tcp_forwarding: bool = False
    isolated: bool = False

    def __post_init__(self) -> None:
        if not _HOSTNAME.match(self.name):
            raise ValueError(f"host name {self.name!r} is not a lower-case RFC 1123 label")
        if self.gpu not in GPU_PROFILES:
            raise ValueError(f"unknown gpu profile {self.gpu!r}; choose from {GPU_PROFILES}")
        if self.os not in OS_RELEASES:
            raise ValueError(f"unknown os {self.os!r}; choose from {OS_RELEASES}")
        if self.machine_id is not None and not _MACHINE_ID.match(self.machine_id):
            raise ValueError(f"machine_id {self.machine_id!r} is not 32 lower-case hex digits")
        for key, value in self.env.items():
            if not _ENV_NAME.match(key) or any(c in value for c in '"\n\\'):
                raise ValueError(f"env entry {key}={value!r} cannot be passed via sshd SetEnv")

    @property
    def gpu_dir(self) -> Path:
        return GPU_PROFILES_DIR / self.gpu

    @property
    def os_release_file(self) -> Path:
        return OS_RELEASE_DIR / self.os
