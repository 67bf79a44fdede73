"""The artifacts a spec needs: files, images and charts, as plain data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FileArtifact:
    """One downloaded file; `path` is its place in a Kubespray files_repo mirror: "<host>/<path>"."""

    name: str
    url: str
    sha256: str | None
    path: str


@dataclass(frozen=True)
class ImageArtifact:
    """One container image, as a full reference (registry/repository:tag or @digest)."""

    ref: str


@dataclass(frozen=True)
class ChartArtifact:
    """One Helm chart at its pinned version, and the repository it comes from."""

    name: str
    version: str
    repo: str


@dataclass(frozen=True)
class ArtifactList:
    """Everything a spec needs, for its architectures and enabled components only."""

    files: tuple[FileArtifact, ...]
    images: tuple[ImageArtifact, ...]
    charts: tuple[ChartArtifact, ...]

    def to_json(self) -> dict[str, Any]:
        """The `artifacts list --json` shape."""
        return {
            "files": [
                {"name": f.name, "url": f.url, "sha256": f.sha256, "path": f.path}
                for f in self.files
            ],
            "images": [{"ref": i.ref} for i in self.images],
            "charts": [
                {"name": c.name, "version": c.version, "repo": c.repo} for c in self.charts
            ],
        }
