"""``deepctl artifacts pull``: fill a mirror directory with what an :class:`ArtifactList` names.

Files are downloaded by a pool of threads and verified against their sha256; images are
copied by skopeo into one OCI layout, a few at once; charts are fetched from their Helm
repositories. Anything already there and verified is skipped, so a pull that stopped half
way resumes where it stopped. A failed item does not stop the others: every failure is in
the returned :class:`Summary`, and nothing unverified is kept.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from deepctl.artifacts import charts, images, layout
from deepctl.artifacts.download import fetch_file
from deepctl.artifacts.lock import mirror_lock
from deepctl.artifacts.model import ArtifactList, ChartArtifact, FileArtifact, ImageArtifact
from deepctl.artifacts.progress import ItemResult, Kind, Reporter, SilentReporter, Summary
from deepctl.artifacts.record import VerifiedRecord
from deepctl.artifacts.sources import probe_registry, probe_url, trusted_ca_dir
from deepctl.errors import ArtifactError, Canceled, DeepctlError, UsageError

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
    ca_file: Path | None = None  # the CA that signed images_from's certificate


def check_options(opts: PullOptions) -> None:
    """Refuse contradictory or malformed options before anything is written."""
    if opts.files_from is not None and not opts.files_from.startswith(("http://", "https://")):
        raise UsageError(f"--files-from {opts.files_from!r} must be an http:// or https:// URL")
    if opts.charts_from is not None and not opts.charts_from.startswith(
            ("http://", "https://", "oci://")):
        raise UsageError(f"--charts-from {opts.charts_from!r} must be an http://, https:// or "
                         "oci:// URL")
    if opts.images_from is not None and "://" in opts.images_from:
        raise UsageError(f"--images-from {opts.images_from!r} must be HOST[:PORT][/PATH], "
                         "without a scheme")
    if opts.insecure_registry and opts.images_from is None:
        raise UsageError("--insecure-registry applies to --images-from, which is not given")
    if opts.workers < 1 or opts.image_workers < 1:
        raise UsageError("--workers must be at least 1")
    images.check_layout_path(layout.images_dir(opts.dest.resolve()))


def pull(artifacts: ArtifactList, opts: PullOptions, reporter: Reporter | None = None) -> Summary:
    """Fetch every artifact of ``artifacts`` into ``opts.dest``; return what happened.

    Files, charts and images are fetched at the same time, each kind by its own pool. On
    Ctrl-C, downloads stop at their next chunk and what was verified is recorded. One pull at
    a time holds the directory; a source given with ``--*-from`` that does not answer stops
    the pull before any item is tried.
    """
    check_options(opts)
    dest = opts.dest.resolve()
    _writable(dest)
    with mirror_lock(dest), trusted_ca_dir(opts.ca_file) as cert_dir:
        probe_sources(artifacts, opts)
        return _pull_locked(artifacts, opts, dest, reporter, cert_dir)


def probe_sources(artifacts: ArtifactList, opts: PullOptions) -> None:
    """The ``--files-from`` and ``--charts-from`` sources answer (the internet is not probed;
    ``--images-from`` is, by :func:`_skopeo_if_needed`, when an image is to be copied)."""
    if opts.files_from is not None and artifacts.files:
        probe_url(opts.files_from, "files source (--files-from)")
    if opts.charts_from is not None and artifacts.charts:
        probe_url(opts.charts_from, "charts source (--charts-from)")


def _pull_locked(artifacts: ArtifactList, opts: PullOptions, dest: Path,
                 reporter: Reporter | None, cert_dir: Path | None) -> Summary:
    record = VerifiedRecord(layout.manifest_path(dest))
    ctx = _Context(dest, opts, record, reporter or SilentReporter(), threading.Event(),
                   charts.RepoIndexes(),
                   _skopeo_if_needed(artifacts.images, dest, opts, record, cert_dir))
    watcher = (images.GrowthWatcher(layout.images_dir(dest),
                                     lambda n: ctx.report.advance("image", n))
               if ctx.skopeo is not None else None)
    pools: list[ThreadPoolExecutor] = []
    futures: list[Future[ItemResult]] = []
    work: list[tuple[Kind, Sequence[Any], int, Callable[[_Context, Any], ItemResult]]] = [
        ("file", _unique(artifacts.files, lambda f: f.path), opts.workers, _pull_file),
        ("chart", _unique(artifacts.charts, layout.chart_file_name), opts.workers, _pull_chart),
        ("image", _unique(artifacts.images, lambda i: layout.normalize_ref(i.ref)),
         opts.image_workers, _pull_image),
    ]
    try:
        for kind, items, workers, one in work:
            ctx.report.begin(kind, len(items))
            pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"pull-{kind}")
            pools.append(pool)
            futures += [pool.submit(one, ctx, item) for item in items]
        results = tuple(f.result() for f in futures)
    except BaseException:
        ctx.canceled.set()
        raise
    finally:
        for pool in pools:
            pool.shutdown(wait=True, cancel_futures=True)
        image_bytes = watcher.stop() if watcher is not None else 0
        try:
            _finish(dest, artifacts, ctx.record, opts)
        except ArtifactError as exc:  # raised again by the caller, after its summary
            problem: str | None = exc.message
        else:
            problem = None
        ctx.report.close()
    return Summary("pull", results, image_bytes, problem)


def _unique(items: Iterable[T], key: Callable[[T], str]) -> list[T]:
    """One item per place in the mirror (two threads must never write the same one)."""
    seen: dict[str, T] = {}
    for item in items:
        seen.setdefault(key(item), item)
    return list(seen.values())


@dataclass(frozen=True)
class _Context:
    dest: Path
    opts: PullOptions
    record: VerifiedRecord
    report: Reporter
    canceled: threading.Event
    indexes: charts.RepoIndexes
    skopeo: images.SkopeoOptions | None

    def on_bytes(self, kind: Kind) -> Callable[[int], None]:
        def advance(nbytes: int) -> None:
            if self.canceled.is_set():
                raise Canceled("canceled")
            self.report.advance(kind, nbytes)

        return advance


def _skopeo_if_needed(wanted: Iterable[ImageArtifact], dest: Path, opts: PullOptions,
                      record: VerifiedRecord, cert_dir: Path | None,
                      ) -> images.SkopeoOptions | None:
    root = layout.images_dir(dest)
    check = images.BlobCheck(record, repair=True)
    if all([images.image_present(root, i.ref, check) for i in wanted]):
        return None
    if opts.images_from is not None:
        probe_registry(opts.images_from, insecure=opts.insecure_registry, ca_file=opts.ca_file,
                       what="image source (--images-from)")
    return images.SkopeoOptions(images.find_skopeo(), opts.arches, opts.authfile,
                                cert_dir=cert_dir, log=dest / "skopeo.log")


def _guard(ctx: _Context, kind: Kind, name: str, work: Callable[[], ItemResult],
           fetched: Callable[[], int] = lambda: 0, label: str = "") -> ItemResult:
    """Run one item; a failure is its result, its error without the item's name again (the
    line that shows it starts with the name)."""
    try:
        result = work()
    except DeepctlError as exc:
        error = exc.message.removeprefix(f"{label or f'{kind} {name}'}: ")
        result = ItemResult(kind, name, "failed", fetched(), error=error)
    ctx.report.done(result)
    return result


class _Counter:
    """Bytes one item downloaded (kept when the item is rejected, for the summary)."""

    def __init__(self, on_bytes: Callable[[int], None]) -> None:
        self.total = 0
        self.on_bytes = on_bytes

    def __call__(self, nbytes: int) -> None:
        self.total += nbytes
        self.on_bytes(nbytes)


def _pull_file(ctx: _Context, artifact: FileArtifact) -> ItemResult:
    counter = _Counter(ctx.on_bytes("file"))

    def work() -> ItemResult:
        target = layout.file_dest(ctx.dest, artifact)
        key = f"files/{artifact.path}"
        if ctx.record.is_verified(key, target, artifact.sha256):
            return ItemResult("file", artifact.path, "skipped",
                              checked="sha256" if artifact.sha256 else "unchanged")
        ctx.record.forget(key)
        size = fetch_file(layout.file_source(artifact, ctx.opts.files_from), target,
                          artifact.sha256, counter, label=f"file {artifact.path}")
        ctx.record.remember(key, target, artifact.sha256)
        return ItemResult("file", artifact.path, "fetched", size)

    return _guard(ctx, "file", artifact.path, work, lambda: counter.total)


def _chart_source(chart: ChartArtifact, opts: PullOptions) -> str | None:
    """``--charts-from``; else, for an OCI chart, its place in ``--images-from``; else None."""
    if opts.charts_from is not None:
        return opts.charts_from
    if chart.repo.startswith("oci://") and opts.images_from:
        _, rest = layout.split_ref(chart.repo.removeprefix("oci://"))
        return f"oci://{opts.images_from.rstrip('/')}/{rest}"
    return None


def _pull_chart(ctx: _Context, chart: ChartArtifact) -> ItemResult:
    name = layout.chart_file_name(chart)

    def work() -> ItemResult:
        target = layout.charts_dir(ctx.dest) / name
        key = f"charts/{name}"
        if ctx.record.is_verified(key, target, None):
            return ItemResult("chart", name, "skipped", checked="unchanged")
        opts = ctx.opts
        plain = frozenset([opts.images_from] if opts.insecure_registry and opts.images_from else [])
        size = charts.fetch_chart(chart, target, charts_from=_chart_source(chart, opts),
                                  indexes=ctx.indexes, plain_http=plain,
                                  on_bytes=ctx.on_bytes("chart"))
        ctx.record.remember(key, target, None)
        return ItemResult("chart", name, "fetched", size)

    return _guard(ctx, "chart", name, work, label=f"chart {chart.name} {chart.version}")


def _pull_image(ctx: _Context, image: ImageArtifact) -> ItemResult:
    def work() -> ItemResult:
        root = layout.images_dir(ctx.dest)
        if images.image_present(root, image.ref, images.BlobCheck(ctx.record, repair=True)):
            return ItemResult("image", image.ref, "skipped", checked="digests")
        if ctx.canceled.is_set():
            raise Canceled("canceled")
        assert ctx.skopeo is not None  # found by _skopeo_if_needed whenever one is missing
        opts = ctx.opts
        ref = layout.pullable(layout.normalize_ref(image.ref))
        source = layout.mirror_ref(ref, opts.images_from) if opts.images_from else ref
        images.pull_image(ctx.skopeo, image.ref, source, root,
                          tls_verify=not (opts.insecure_registry and opts.images_from))
        return ItemResult("image", image.ref, "fetched")

    return _guard(ctx, "image", image.ref, work)


def _writable(dest: Path) -> None:
    try:
        dest.mkdir(parents=True, exist_ok=True)
        probe = dest / ".deepctl-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ArtifactError(f"{dest}: cannot write the mirror there ({exc.strerror or exc})",
                            hint="choose a --dest on a writable disk with room for it") from None


def _finish(dest: Path, artifacts: ArtifactList, record: VerifiedRecord, opts: PullOptions) -> None:
    """Index what is there (images layout, Helm repo) and save the record (each one tried)."""
    images_root = layout.images_dir(dest)
    failed: OSError | None = None
    document = {"arches": list(opts.arches), "artifacts": artifacts.to_json()}
    steps: list[Callable[[], object]] = [lambda: record.save(document)]
    if images.refs_dir(images_root).is_dir():
        steps.append(lambda: images.write_layout_index(images_root))
    if layout.charts_dir(dest).is_dir():
        steps.append(lambda: charts.write_repo_index(layout.charts_dir(dest)))
    for step in steps:
        try:
            step()
        except OSError as exc:
            failed = failed or exc
    if failed is not None:
        raise ArtifactError(f"{dest}: cannot write the mirror's indexes "
                            f"({failed.strerror or failed})",
                            hint="free some space on that disk, then run the pull again") from None
