"""``DIR/manifest.json``: what a pull verified, so the next pull skips it without rehashing.

A file counts as verified when its size and modification time are those recorded with its
sha256 (the file is unchanged since it was checked); otherwise it is hashed again.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from deepctl.artifacts.download import sha256_of
from deepctl.user_input import InputError, read_input

VERSION = 1
MAX_RECORD_BYTES = 64 * 1024 * 1024  # ~150 bytes per item: far more items than any mirror has


class VerifiedRecord:
    """The verified entries of one mirror directory; thread-safe."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._entries: dict[str, dict[str, Any]] = {}
        try:
            data = json.loads(read_input(path, MAX_RECORD_BYTES, "mirror record"))
            if isinstance(data, dict) and data.get("version") == VERSION:
                self._entries = dict(data.get("verified", {}))
        except (InputError, ValueError):  # none yet, or not one: every item is checked again
            pass

    def remember(self, key: str, path: Path, sha256: str | None) -> None:
        stat = path.stat()
        with self._lock:
            self._entries[key] = {"sha256": sha256, "size": stat.st_size,
                                  "mtime_ns": stat.st_mtime_ns}

    def forget(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def is_verified(self, key: str, path: Path, sha256: str | None) -> bool:
        """``path`` holds the expected content: unchanged since recorded, or hashes right."""
        try:
            stat = path.stat()
        except OSError:
            return False
        with self._lock:
            entry = self._entries.get(key)
        if (entry is not None and entry.get("size") == stat.st_size
                and entry.get("mtime_ns") == stat.st_mtime_ns
                and (sha256 is None or entry.get("sha256") == sha256)):
            return True
        if sha256 is None or sha256_of(path) != sha256.lower():
            return False
        self.remember(key, path, sha256)
        return True

    def save(self, extra: dict[str, Any]) -> None:
        with self._lock:
            document = {"version": VERSION, **extra, "verified": dict(sorted(self._entries.items()))}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temp = self.path.with_name(f".{self.path.name}.tmp")
        try:
            temp.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
            os.replace(temp, self.path)
        finally:
            temp.unlink(missing_ok=True)
