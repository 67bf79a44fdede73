"""``deepctl artifacts pull``: fill a mirror directory with what an :class:`ArtifactList` names.

Files are downloaded by a pool of threads and verified against their sha256; images are
copied by skopeo into one OCI layout, a few at once; charts are fetched from their Helm
repositories. Anything already there and verified is skipped, so a pull that stopped half
way resumes where it stopped. A failed item does not stop the others: every failure is in
the returned :class:`Summary`, and nothing unverified is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from deepctl.artifacts import charts, images, layout
from deepctl.artifacts.download import fetch_file
from deepctl.artifacts.model import ArtifactList, ChartArtifact, FileArtifact, ImageArtifact
from deepctl.artifacts.progress import ItemResult, Kind, Reporter, SilentReporter, Summary
from deepctl.artifacts.record import VerifiedRecord
from deepctl.errors import DeepctlError, UsageError

T = TypeVar("T")


@dataclass(frozen=True)
class PullOptions:
    """Where the mirror goes, and where its content comes from (default: the internet)."""

    dest: Path
    files_from: str | None = None  # a files_repo mirror: <files_from>/<host>/<path>
    images_from: str | None = None  # a registry with Kubespray's registry_host layout
    charts_from: str | None = None  # a Helm repository holding every chart
    insecure_registry: bool = False  # images_from speaks plain HTTP (or unverified TLS)
    arches: tuple[str, ...] = ("amd64",)
    workers: int = 8
    image_workers: int = 4
    authfile: Path | None = None


def check_options(opts: PullOptions) -> None:
    """Refuse contradictory or malformed options before anything is written."""
    for flag, url in (("--files-from", opts.files_from), ("--charts-from", opts.charts_from)):
        if url is not None and not url.startswith(("http://", "https://", "oci://")):
            raise UsageError(f"{flag} {url!r} must be an http:// or https:// URL")
    if opts.images_from is not None and "://" in opts.images_from:
        raise UsageError(f"--images-from {opts.images_from!r} must be HOST[:PORT][/PATH], "
                         "without a scheme")
    if opts.insecure_registry and opts.images_from is None:
        raise UsageError("--insecure-registry applies to --images-from, which is not given")
    if opts.workers < 1 or opts.image_workers < 1:
        raise UsageError("--workers must be at least 1")
    images.check_layout_path(layout.images_dir(opts.dest.resolve()))


def pull(artifacts: ArtifactList, opts: PullOptions, reporter: Reporter | None = None) -> Summary:
    """Fetch every artifact of ``artifacts`` into ``opts.dest``; return what happened."""
    check_options(opts)
    report = reporter or SilentReporter()
    dest = opts.dest.resolve()
    dest.mkdir(parents=True, exist_ok=True)
    record = VerifiedRecord(layout.manifest_path(dest))
    skopeo = _skopeo_if_needed(artifacts.images, dest, opts)
    results: list[ItemResult] = []
    try:
        report.begin("file", len(artifacts.files))
        results += _each(artifacts.files, opts.workers,
                         lambda f: _pull_file(f, dest, opts, record, report))
        report.begin("chart", len(artifacts.charts))
        indexes = charts.RepoIndexes()
        results += _each(artifacts.charts, opts.workers,
                         lambda c: _pull_chart(c, dest, opts, record, indexes, report))
        report.begin("image", len(artifacts.images))
        results += _each(artifacts.images, opts.image_workers,
                         lambda i: _pull_image(i, dest, opts, skopeo, report))
    finally:
        _finish(dest, artifacts, record, opts)
        report.close()
    return Summary("pull", tuple(results))


def _each(items: Iterable[T], workers: int, work: Callable[[T], ItemResult]) -> list[ItemResult]:
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pull") as pool:
        return list(pool.map(work, items))


def _skopeo_if_needed(wanted: Iterable[ImageArtifact], dest: Path,
                      opts: PullOptions) -> images.SkopeoOptions | None:
    root = layout.images_dir(dest)
    if all(images.image_present(root, i.ref) for i in wanted):
        return None
    return images.SkopeoOptions(images.find_skopeo(), opts.arches, opts.authfile)


def _guard(kind: Kind, name: str, report: Reporter, work: Callable[[], ItemResult]) -> ItemResult:
    try:
        result = work()
    except DeepctlError as exc:
        result = ItemResult(kind, name, "failed", error=exc.message)
    report.done(result)
    return result


def _pull_file(artifact: FileArtifact, dest: Path, opts: PullOptions, record: VerifiedRecord,
               report: Reporter) -> ItemResult:
    def work() -> ItemResult:
        target = layout.file_dest(dest, artifact)
        key = f"files/{artifact.path}"
        if record.is_verified(key, target, artifact.sha256):
            return ItemResult("file", artifact.path, "skipped")
        record.forget(key)
        size = fetch_file(layout.file_source(artifact, opts.files_from), target, artifact.sha256,
                          lambda n: report.advance("file", n), label=f"file {artifact.path}")
        record.remember(key, target, artifact.sha256)
        return ItemResult("file", artifact.path, "fetched", size)

    return _guard("file", artifact.path, report, work)


def _pull_chart(chart: ChartArtifact, dest: Path, opts: PullOptions, record: VerifiedRecord,
                indexes: charts.RepoIndexes, report: Reporter) -> ItemResult:
    name = layout.chart_file_name(chart)

    def work() -> ItemResult:
        target = layout.charts_dir(dest) / name
        key = f"charts/{name}"
        if record.is_verified(key, target, None):
            return ItemResult("chart", name, "skipped")
        source = opts.charts_from
        if source is None and chart.repo.startswith("oci://") and opts.images_from:
            _, rest = layout.split_ref(chart.repo.removeprefix("oci://"))
            source = f"oci://{opts.images_from.rstrip('/')}/{rest}"
        plain = frozenset([opts.images_from]) if opts.insecure_registry and opts.images_from else frozenset()
        size = charts.fetch_chart(chart, target, charts_from=source, indexes=indexes,
                                  plain_http=plain, on_bytes=lambda n: report.advance("chart", n))
        record.remember(key, target, None)
        return ItemResult("chart", name, "fetched", size)

    return _guard("chart", name, report, work)


def _pull_image(image: ImageArtifact, dest: Path, opts: PullOptions,
                skopeo: images.SkopeoOptions | None, report: Reporter) -> ItemResult:
    def work() -> ItemResult:
        root = layout.images_dir(dest)
        if images.image_present(root, image.ref):
            return ItemResult("image", image.ref, "skipped")
        assert skopeo is not None  # found by _skopeo_if_needed whenever an image is missing
        ref = layout.normalize_ref(image.ref)
        source = (layout.mirror_ref(layout.pullable(ref), opts.images_from)
                  if opts.images_from else layout.pullable(ref))
        images.pull_image(skopeo, image.ref, source, root,
                          tls_verify=not (opts.insecure_registry and opts.images_from))
        return ItemResult("image", image.ref, "fetched")

    return _guard("image", image.ref, report, work)


def _finish(dest: Path, artifacts: ArtifactList, record: VerifiedRecord, opts: PullOptions) -> None:
    """Index what is there (images layout, Helm repo) and save the record."""
    images_root = layout.images_dir(dest)
    if images.refs_dir(images_root).is_dir():
        images.write_layout_index(images_root)
    if layout.charts_dir(dest).is_dir():
        charts.write_repo_index(layout.charts_dir(dest))
    record.save({"arches": list(opts.arches), "artifacts": artifacts.to_json()})
