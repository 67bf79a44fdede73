"""What a pull or a push reports as it goes, and the result of each item.

:class:`Reporter` is the interface the library calls (from worker threads);
:class:`SilentReporter` ignores everything. The terminal and plain-line displays are in
:mod:`deepctl.artifacts.display`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

Kind = Literal["file", "image", "chart"]
Status = Literal["fetched", "skipped", "failed"]
KINDS: tuple[Kind, ...] = ("file", "image", "chart")


@dataclass(frozen=True)
class ItemResult:
    """What happened to one artifact."""

    kind: Kind
    name: str
    status: Status
    size: int = 0  # bytes transferred (0 when skipped, or unknown for images); when failed,
    # the bytes fetched and then rejected
    error: str | None = None
    checked: str = ""  # for "skipped": how it was checked ("sha256", "digests", "unchanged")

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "status": self.status, "bytes": self.size,
                "error": self.error, **({"checked": self.checked} if self.checked else {})}


class Reporter(Protocol):
    """Progress callbacks; called from worker threads, so implementations lock."""

    def begin(self, kind: Kind, total: int) -> None: ...

    def advance(self, kind: Kind, nbytes: int) -> None: ...

    def done(self, result: ItemResult) -> None: ...

    def close(self) -> None: ...


class SilentReporter:
    def begin(self, kind: Kind, total: int) -> None:
        pass

    def advance(self, kind: Kind, nbytes: int) -> None:
        pass

    def done(self, result: ItemResult) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class Summary:
    """Every item's result, and the counts people read."""

    verb: str  # "pull" or "push"
    results: tuple[ItemResult, ...]
    image_bytes: int = 0  # bytes of image blobs added to the mirror (shared layers once)
    problem: str | None = None  # what failed after the items (writing the indexes: a full disk)

    def count(self, kind: Kind, status: Status) -> int:
        return sum(1 for r in self.results if r.kind == kind and r.status == status)

    def transferred(self) -> int:
        """Bytes downloaded: files and charts, and the image blobs the mirror gained."""
        return self.image_bytes + sum(r.size for r in self.results if r.status == "fetched")

    def rejected(self) -> int:
        """Bytes downloaded and then thrown away (a checksum mismatch, a failed write)."""
        return sum(r.size for r in self.results if r.status == "failed")

    @property
    def failures(self) -> tuple[ItemResult, ...]:
        return tuple(r for r in self.results if r.status == "failed")

    def to_json(self) -> dict[str, Any]:
        counts = {
            kind: {s: self.count(kind, s) for s in ("fetched", "skipped", "failed")}
            for kind in KINDS
        }
        return {"counts": counts, "bytes": self.transferred(), "rejected_bytes": self.rejected(),
                "items": [r.to_json() for r in self.results],
                **({"problem": self.problem} if self.problem else {})}
