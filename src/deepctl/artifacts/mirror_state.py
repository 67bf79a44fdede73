"""How much of an artifact list a mirror directory holds, counting only what is verified.

A file counts when its sha256 matches its pin (or, without a pin, when it is unchanged since
a pull recorded it); an image when every blob matches its digest; a chart when it is unchanged
since a pull recorded it. What is there but does not pass is counted apart: a saved error page
is present, not verified. Reads only: the mirror is not changed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from deepctl.artifacts import images, layout
from deepctl.artifacts.display import human_bytes
from deepctl.artifacts.model import ArtifactList
from deepctl.artifacts.record import VerifiedRecord


@dataclass(frozen=True)
class KindState:
    total: int
    verified: int
    unverified: int  # present, but not verified
    bytes: int = 0  # on disk, verified files only

    @property
    def missing(self) -> int:
        return self.total - self.verified - self.unverified


@dataclass(frozen=True)
class MirrorState:
    path: Path
    files: KindState
    images: KindState
    charts: KindState

    def to_json(self) -> dict[str, Any]:
        return {"path": str(self.path), **{
            kind: {**asdict(state), "missing": state.missing}
            for kind, state in (("files", self.files), ("images", self.images),
                                ("charts", self.charts))}}

    def line(self) -> str:
        """``in DIR: 2 of 3 files verified (4.0 kB), 1 present but not verified; ...``."""
        parts = []
        for noun, state in (("files", self.files), ("images", self.images),
                            ("charts", self.charts)):
            text = f"{state.verified} of {state.total} {noun} verified"
            if noun == "files":
                text += f" ({human_bytes(state.bytes)} on disk)"
            if state.unverified:
                text += f", {state.unverified} present but not verified"
            parts.append(text)
        return f"in {self.path}: " + "; ".join(parts)


def mirror_state(artifacts: ArtifactList, mirror: Path) -> MirrorState:
    record = VerifiedRecord(layout.manifest_path(mirror))
    verified = unverified = size = 0
    for item in artifacts.files:
        path = layout.file_dest(mirror, item)
        if record.is_verified(f"files/{item.path}", path, item.sha256):
            verified += 1
            size += path.stat().st_size
        elif path.exists():
            unverified += 1
    files = KindState(len(artifacts.files), verified, unverified, size)
    root = layout.images_dir(mirror)
    check = images.BlobCheck(record, repair=False)
    ok = [i for i in artifacts.images if images.image_present(root, i.ref, check)]
    there = [i for i in artifacts.images if i not in ok
             and (images.refs_dir(root) / layout.image_slug(i.ref)).exists()]
    charts_ok = charts_there = 0
    for chart in artifacts.charts:
        name = layout.chart_file_name(chart)
        target = layout.charts_dir(mirror) / name
        if record.is_verified(f"charts/{name}", target, None):
            charts_ok += 1
        elif target.exists():
            charts_there += 1
    return MirrorState(mirror, files, KindState(len(artifacts.images), len(ok), len(there)),
                       KindState(len(artifacts.charts), charts_ok, charts_there))
