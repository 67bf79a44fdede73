"""Where each artifact lives: in a mirror directory, at its source, and in the air-gap registry.

Pure functions, no I/O. A mirror directory ``DIR`` holds::

    DIR/files/<host>/<path>        Kubespray's files_repo layout (serve DIR/files over HTTP)
    DIR/images/                    one OCI image layout (oci-layout, index.json, blobs/)
    DIR/images/refs/<slug>/        the per-image index skopeo wrote (blobs shared in blobs/)
    DIR/charts/<name>-<version>.tgz  and index.yaml: a Helm repository (serve DIR/charts)
    DIR/manifest.json              what was pulled, verified

Images follow Kubespray's ``registry_host`` layout: the source registry is dropped and the
repository path kept (``quay.io/calico/node:v3`` -> ``REGISTRY/calico/node:v3``), as
``contrib/offline/manage-offline-container-images.sh`` does.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path, PurePosixPath

from deepctl.artifacts.model import ChartArtifact, FileArtifact
from deepctl.errors import ArtifactError
from deepctl.kubevars.offline import mirror_image, qualify_image, split_image

_SLUG_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def files_dir(dest: Path) -> Path:
    return dest / "files"


def images_dir(dest: Path) -> Path:
    return dest / "images"


def charts_dir(dest: Path) -> Path:
    return dest / "charts"


def manifest_path(dest: Path) -> Path:
    return dest / "manifest.json"


def safe_relative(path: str) -> PurePosixPath:
    """``path`` as a relative path that stays inside the mirror; refuse anything else."""
    pure = PurePosixPath(path)
    if not path or pure.is_absolute() or any(part in ("..", "") for part in pure.parts):
        raise ArtifactError(f"artifact path {path!r} would leave the mirror directory")
    return pure


def file_dest(dest: Path, artifact: FileArtifact) -> Path:
    return files_dir(dest) / safe_relative(artifact.path)


def file_source(artifact: FileArtifact, files_from: str | None) -> str:
    """The URL to download from: the artifact's own, or its place in a files_repo mirror."""
    if files_from is None:
        return artifact.url
    return f"{files_from.rstrip('/')}/{safe_relative(artifact.path).as_posix()}"


def chart_file_name(chart: ChartArtifact) -> str:
    return f"{chart.name}-{chart.version}.tgz"


def normalize_ref(ref: str) -> str:
    """A full reference: ``nginx:1`` -> ``docker.io/library/nginx:1``."""
    return qualify_image(ref)


def split_ref(ref: str) -> tuple[str, str]:
    """(registry, repository[:tag][@digest]) of a reference."""
    return split_image(ref)


def pullable(ref: str) -> str:
    """skopeo cannot read ``name:tag@digest``: keep the digest, which names the content."""
    name, at, digest = ref.partition("@")
    if not at:
        return ref
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name = name[: len(name) - len(last)] + last.split(":", 1)[0]
    return f"{name}@{digest}"


def pushable(ref: str) -> str:
    """A destination keeps the tag (what Kubespray and the charts ask for), else the digest."""
    name, at, digest = ref.partition("@")
    if not at:
        return ref
    last = name.rsplit("/", 1)[-1]
    return name if ":" in last else f"{name}@{digest}"


def mirror_ref(ref: str, registry: str) -> str:
    """Where ``ref`` lives in a registry with Kubespray's registry_host layout."""
    if "://" in registry:
        raise ArtifactError(f"registry {registry!r} must be HOST[:PORT][/PATH], without a scheme")
    return mirror_image(ref, registry.rstrip("/"))


def image_slug(ref: str) -> str:
    """A directory name for one image: readable, and unique by a short hash of the ref."""
    readable = _SLUG_UNSAFE.sub("_", normalize_ref(ref)).strip("_")[:80]
    return f"{readable}-{hashlib.sha256(ref.encode()).hexdigest()[:10]}"
