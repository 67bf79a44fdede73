"""The per-cluster ``known_hosts`` file (``STATE/known_hosts``), in OpenSSH format.

deepctl verifies every SSH host key against this file only (never ``~/.ssh/known_hosts``),
and Ansible is pointed at the same file (``UserKnownHostsFile``), so an entry accepted here is
accepted by ``ssh -o StrictHostKeyChecking=yes`` too: ``ADDR KEYTYPE BASE64`` for port 22 and
``[ADDR]:PORT KEYTYPE BASE64`` otherwise.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from pathlib import Path

import paramiko

from deepctl.fsutil import atomic_write

_write_lock = threading.Lock()


def host_key_name(address: str, port: int) -> str:
    """The name OpenSSH (and paramiko) look a host key up by."""
    return address if port == 22 else f"[{address}]:{port}"


def fingerprint(key: paramiko.PKey) -> str:
    """``SHA256:...`` as printed by ``ssh-keygen -lf`` and by ``ssh`` on first contact."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def entry_line(name: str, key: paramiko.PKey) -> str:
    return f"{name} {key.get_name()} {key.get_base64()}"


def load(path: Path) -> paramiko.HostKeys:
    """The keys in ``path`` (an empty set when the file does not exist yet)."""
    keys = paramiko.HostKeys()
    if path.exists():
        keys.load(str(path))
    return keys


def record(path: Path, name: str, key: paramiko.PKey) -> bool:
    """Add ``name key`` to the file (atomically, 0600) unless it is there already.

    Safe to call from several threads at once: additions are serialised and each one
    re-reads the file, so no entry written by another thread is lost.
    """
    line = entry_line(name, key)
    with _write_lock:
        existing = path.read_text(encoding="utf-8") if path.exists() else ""
        lines = existing.splitlines()
        if line in lines:
            return False
        atomic_write(path, "".join(f"{item}\n" for item in [*lines, line]), mode=0o600)
    return True
