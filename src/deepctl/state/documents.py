"""Versioned JSON documents of the state directory: read strictly, written atomically.

A missing file is "nothing recorded yet" (the caller's default). A file that is not JSON,
not an object, has no usable ``version`` or one newer than this deepctl reads, is a
:class:`StateError` that names the file and says how to get past it; never a silent ``{}``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from deepctl.errors import StateError
from deepctl.fsutil import atomic_write_json
from deepctl.state.types import SCHEMA_VERSION


def read_document(path: Path, way_out: str) -> dict[str, Any] | None:
    """The JSON object in ``path`` (None when missing); ``way_out`` is the hint on error."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)
        raise StateError(f"{path}: unreadable ({reason})", hint=way_out) from None
    if not isinstance(data, dict):
        raise StateError(f"{path}: unreadable (not a JSON object)", hint=way_out)
    version = data.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool):
        raise StateError(f"{path}: unreadable (schema version {version!r})", hint=way_out)
    if version > SCHEMA_VERSION:
        raise StateError(
            f"{path}: written by a newer deepctl (state schema {version}, this deepctl reads "
            f"{SCHEMA_VERSION})",
            hint="upgrade deepctl, or use a separate --state-dir with this version")
    return data


def write_document(path: Path, body: dict[str, Any]) -> None:
    atomic_write_json(path, {"version": SCHEMA_VERSION, **body})
