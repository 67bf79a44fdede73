"""The one reader of files a user names: a spec, a CA bundle, a key's ``.pub``, a copy of the spec.

Every such file is read through :func:`read_input`, whatever it is: a regular file, a device
(``/dev/zero``), a FIFO or a process substitution (``<(...)``), or ``-`` for standard input.
It reads in chunks and stops at ``limit + 1`` bytes, so a size is never taken from ``stat``
(which says 0 for a device or a pipe) and nothing is read past the limit: more than ``limit``
bytes is refused with :class:`InputError` (``reason == "too-large"``), the same for every kind.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import BinaryIO, Literal

from deepctl.errors import UsageError

STDIN = "-"
STDIN_NAME = "<stdin>"
CHUNK_BYTES = 64 * 1024
MAX_SPEC_BYTES = 8 * 1024 * 1024  # a spec of thousands of hosts is well under this
Reason = Literal["missing", "directory", "denied", "unreadable", "too-large"]


class InputError(UsageError):
    """A file the user named cannot be read, or holds more than its limit."""

    def __init__(self, message: str, reason: Reason, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.reason = reason


def is_stdin(path: Path | str) -> bool:
    return str(path) == STDIN


def display_name(path: Path | str) -> str:
    """How a message names the input: ``<stdin>`` for ``-``, else the path as given."""
    return STDIN_NAME if is_stdin(path) else str(path)


def human_size(size: int) -> str:
    """Pure: 8388608 -> "8 MiB", 262144 -> "256 KiB", 100 -> "100 bytes"."""
    for unit, scale in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if size >= scale:
            value = size / scale
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{size} bytes"


def read_capped(handle: BinaryIO, limit: int) -> tuple[bytes, bool]:
    """At most ``limit`` bytes of ``handle``, in chunks; True when there was more."""
    data = bytearray()
    while len(data) <= limit:
        chunk = handle.read(min(CHUNK_BYTES, limit + 1 - len(data)))
        if not chunk:
            return bytes(data), False
        data += chunk
    return bytes(data[:limit]), True


def read_input(path: Path | str, limit: int, what: str) -> bytes:
    """The bytes of the file ``path`` names (``-``: standard input), refused above ``limit``.

    ``what`` names the file in messages ("spec", "CA bundle"). Raises :class:`InputError`.
    """
    name = display_name(path)
    if is_stdin(path):
        data, more = read_capped(sys.stdin.buffer, limit)
        size = None
    else:
        try:
            with open(path, "rb") as handle:
                info = os.fstat(handle.fileno())
                if stat.S_ISDIR(info.st_mode):
                    raise IsADirectoryError
                data, more = read_capped(handle, limit)
                size = info.st_size if stat.S_ISREG(info.st_mode) else None
        except FileNotFoundError:
            raise InputError(f"{name}: no such file", "missing") from None
        except IsADirectoryError:
            raise InputError(f"{name}: is a directory, not a {what} file", "directory") from None
        except PermissionError:
            raise InputError(f"{name}: permission denied", "denied") from None
        except OSError as exc:
            raise InputError(f"{name}: cannot be read ({exc.strerror or exc})",
                             "unreadable") from None
    if more:
        told = f"is {human_size(size)}" if size and size > limit else \
            f"holds more than {human_size(limit)}"
        raise InputError(f"{name} {told}; a {what} is at most {human_size(limit)}", "too-large")
    return data
