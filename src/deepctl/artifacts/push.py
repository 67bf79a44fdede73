"""``deepctl artifacts push``: the images of a mirror directory into the air-gap registry.

An image the registry already holds with the same digest is skipped, so a push that stopped
half way is simply run again.

Each image goes where Kubespray's ``registry_host`` layout expects it (the source registry
dropped, the repository path kept), so ``spec.offline.registry`` pointed at that registry
serves every image. Files and charts need no push: any web server serves ``DIR/files`` and
``DIR/charts`` (docs/airgap.md).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from deepctl.artifacts import images, layout
from deepctl.artifacts.progress import ItemResult, Reporter, SilentReporter, Summary
from deepctl.artifacts.sources import probe_registry, trusted_ca_dir
from deepctl.errors import ArtifactError, DeepctlError, UsageError


@dataclass(frozen=True)
class PushOptions:
    source: Path  # a directory written by `deepctl artifacts pull`
    registry: str  # HOST[:PORT][/PATH]
    insecure_registry: bool = False  # the registry speaks plain HTTP (or unverified TLS)
    authfile: Path | None = None
    workers: int = 4
    ca_file: Path | None = None  # the CA (PEM) that signed the registry's certificate


def plan(refs: list[str], registry: str) -> list[tuple[str, str]]:
    """(ref in the layout, destination) for each image; two refs must not land on one place."""
    pairs = [(ref, layout.mirror_ref(layout.pushable(ref), registry)) for ref in refs]
    seen: dict[str, str] = {}
    for ref, target in pairs:
        if target in seen:
            raise ArtifactError(
                f"{seen[target]} and {ref} would both be pushed to {target}",
                hint="the registry_host layout drops the source registry; keep only one of "
                "them in the mirror",
            )
        seen[target] = ref
    return pairs


def check_options(opts: PushOptions) -> Path:
    if not opts.registry or "://" in opts.registry:
        raise UsageError(f"--registry {opts.registry!r} must be HOST[:PORT][/PATH], "
                         "without a scheme")
    root = layout.images_dir(opts.source.resolve())
    if not (root / "index.json").is_file():
        raise ArtifactError(
            f"{opts.source}: no images/index.json, so this is not a mirror directory",
            hint="fill one first on a connected machine: "
            f"`deepctl artifacts pull` with your spec and `--dest {opts.source}`, then carry that "
            "directory here",
        )
    images.check_layout_path(root)
    return root


def push(opts: PushOptions, reporter: Reporter | None = None) -> Summary:
    """Copy every image of ``opts.source`` into ``opts.registry``; return what happened."""
    root = check_options(opts)
    digests = images.layout_digests(root)
    pairs = plan(list(digests), opts.registry)
    binary = images.find_skopeo()
    probe_registry(opts.registry, insecure=opts.insecure_registry, ca_file=opts.ca_file,
                   what="registry")
    with trusted_ca_dir(opts.ca_file) as cert_dir:
        skopeo = images.SkopeoOptions(binary, authfile=opts.authfile, cert_dir=cert_dir,
                                      log=_log_path(opts.source))
        return _push(opts, root, digests, pairs, skopeo, reporter or SilentReporter())


def _log_path(source: Path) -> Path | None:
    """skopeo's full error text goes beside the mirror when it is writable (else nowhere)."""
    return source.resolve() / "skopeo.log" if os.access(source, os.W_OK) else None


def _push(opts: PushOptions, root: Path, digests: dict[str, str], pairs: list[tuple[str, str]],
          skopeo: images.SkopeoOptions, report: Reporter) -> Summary:
    verify = not opts.insecure_registry

    def one(pair: tuple[str, str]) -> ItemResult:
        ref, target = pair
        try:
            if images.registry_digest(skopeo, target, tls_verify=verify) == digests[ref]:
                result = ItemResult("image", ref, "skipped", checked="registry")
            else:
                argv = images.push_argv(skopeo, root, ref, target, tls_verify=verify)
                images.run_skopeo(argv, f"image {ref} -> {target}", skopeo.log)
                result = ItemResult("image", ref, "fetched")
        except DeepctlError as exc:
            result = ItemResult("image", ref, "failed", error=exc.message)
        report.done(result)
        return result

    report.begin("image", len(pairs))
    try:
        with ThreadPoolExecutor(max_workers=opts.workers, thread_name_prefix="push") as pool:
            results = list(pool.map(one, pairs))
    finally:
        report.close()
    return Summary("push", tuple(results))
