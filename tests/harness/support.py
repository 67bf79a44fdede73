"""What the harness needs from the machine running the tests, and why it would skip."""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
REQUIRED_TOOLS = ("unshare", "mount", "hostname", "ssh", "ssh-keygen")
REQUIRED_FILES = ("/etc/machine-id", "/etc/os-release")
APT_HINT = "apt-get install -y openssh-server openssh-client util-linux sudo"


def sshd_path() -> str | None:
    return shutil.which("sshd", path=SYSTEM_PATH)


def tool_path(tool: str) -> str:
    found = shutil.which(tool, path=SYSTEM_PATH)
    if found is None:
        raise FileNotFoundError(f"{tool} not found on {SYSTEM_PATH}")
    return found


def stub_python() -> str:
    """The interpreter the stand-in tools run under on the test hosts."""
    return shutil.which("python3", path="/usr/bin:/bin:/usr/local/bin") or sys.executable


@functools.cache
def missing_requirements() -> str | None:
    """A reason to skip real-sshd tests on this machine, or ``None`` when all is there."""
    if os.geteuid() != 0:
        return "not running as root (needed for mount/UTS namespaces, port 22 and sudo)"
    if sshd_path() is None:
        return f"sshd not found; {APT_HINT}"
    for tool in REQUIRED_TOOLS:
        if shutil.which(tool, path=SYSTEM_PATH) is None:
            return f"{tool} not found; {APT_HINT}"
    for required in REQUIRED_FILES:
        if not os.path.exists(required):
            return f"{required} is missing; test hosts bind their own copy over it"
    probe = subprocess.run(
        [tool_path("unshare"), "--mount", "--uts", "--propagation", "private", "true"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        return f"cannot create mount/UTS namespaces: {probe.stderr.strip()}"
    return None


def ensure_privsep_dir() -> None:
    """sshd refuses to start without its privilege-separation directory (systemd normally makes it)."""
    privsep = Path("/run/sshd")
    privsep.mkdir(mode=0o755, exist_ok=True)


def sudo_installed() -> bool:
    return shutil.which("sudo", path=SYSTEM_PATH) is not None and Path("/etc/sudoers").exists()


@functools.cache
def openssh_version() -> tuple[int, int]:
    """The (major, minor) version of the installed sshd, e.g. ``(9, 2)``."""
    sshd = sshd_path()
    if sshd is None:
        return (0, 0)
    result = subprocess.run([sshd, "-V"], capture_output=True, text=True, check=False)
    match = re.search(r"OpenSSH_(\d+)\.(\d+)", result.stdout + result.stderr)
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)
