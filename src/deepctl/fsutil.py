"""Small file-system helpers: atomic writes with explicit modes, private directories."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from deepctl.errors import StateError
from deepctl.state_guard import check_dir


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) and make it 0700; an existing ``path`` must be a real
    directory of this user that nobody else may write to (it is never chmod-ed otherwise)."""
    check_dir(path)
    missing = []
    probe = path
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    try:
        for directory in reversed(missing):  # parents too are created 0700
            directory.mkdir(mode=0o700, exist_ok=True)
            os.chmod(directory, 0o700)
        os.chmod(path, 0o700)
    except OSError as exc:
        raise StateError(f"cannot create directory {path}: {exc.strerror}") from None
    return path


def atomic_write(path: Path, data: str | bytes, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    Readers see either the old or the new content, never a partial file; on failure (a full
    disk, say) the old file is left as it was and the temporary file is removed.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise StateError(f"cannot write {path}: {exc.strerror or exc}") from None


def atomic_write_json(path: Path, data: Any, mode: int = 0o600) -> None:
    atomic_write(path, json.dumps(data, indent=2, sort_keys=True) + "\n", mode)
