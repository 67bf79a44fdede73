"""``deepctl artifacts list | pull | push``: the air-gap path (docs/airgap.md)."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.markup import escape

from deepctl.artifacts.display import PlainReporter, reporter_for, summary_lines
from deepctl.artifacts.model import ArtifactList
from deepctl.artifacts.progress import Reporter, Summary
from deepctl.cli.support import print_json, stderr, stdout
from deepctl.clusterspec.loader import LoadedSpec, load_spec
from deepctl.clusterspec.offline import check_ca_bundle
from deepctl.errors import ArtifactError, UsageError
from deepctl.kubespray import source as kubespray_source
from deepctl.names import summary
from deepctl.shellwords import deepctl_command


def needed(spec: Path, stated_os: Sequence[str] = (), *, refuse_unknown_os: bool = False,
           ) -> tuple[LoadedSpec, ArtifactList]:
    """The spec, and exactly what it needs (from its Kubespray tree and enabled addons).

    The driver image's tag names the GPU hosts' OS: from preflight's saved facts, or
    ``stated_os``. Without either, a pull refuses and a list warns, saying how to give it.
    """
    from deepctl.artifacts.listing import check_os_tags, list_artifacts, os_unknown
    from deepctl.preflight.saved import os_releases
    from deepctl.state import StateDir

    check_os_tags(stated_os)
    loaded = load_spec(spec)
    tree = kubespray_source.find(loaded.cluster, loaded.directory)
    if tree is None:
        raise kubespray_source.not_found_error(loaded.cluster.spec.kubespray.version,
                                               "the artifact list is read from it")
    cluster = loaded.cluster
    state = StateDir.for_spec(loaded.path, cluster.name, None)
    host_os = os_releases(state, [h.name for h in cluster.gpu_hosts])
    unknown = os_unknown(cluster, host_os, stated_os)
    if unknown:
        message = (f"the GPU Operator pulls its driver image tagged with each GPU host's OS "
                   f"(nvcr.io/nvidia/driver:VERSION-ubuntu24.04), and the OS of "
                   f"{summary(unknown)} is not known")
        hint = (f"run `{deepctl_command('preflight', spec)}` (it saves each host's OS), or give the OS "
                "with --os, e.g. --os ubuntu24.04 (repeat it for several)")
        if refuse_unknown_os:
            raise UsageError(message, hint=hint)
        stderr().print(f"[yellow]warning:[/] {escape(message)}; the list names the driver "
                       f"image without it\n[yellow]hint:[/] {escape(hint)}")
    return loaded, list_artifacts(cluster, tree, host_os=host_os, stated_os=stated_os)


def list_(spec: Path, *, as_json: bool, mirror: Path | None, stated_os: Sequence[str] = ()) -> None:
    from deepctl.artifacts.mirror_state import mirror_state

    _, artifacts = needed(spec, stated_os)
    state = mirror_state(artifacts, mirror) if mirror is not None else None
    if as_json:
        print_json({**artifacts.to_json(), **({"mirror": state.to_json()} if state else {})})
        return
    console = stdout()
    console.print(f"{escape(str(spec))} needs {counted(len(artifacts.files), 'file')}, "
                  f"{counted(len(artifacts.images), 'image')} and "
                  f"{counted(len(artifacts.charts), 'chart')}")
    for line in listing_lines(artifacts):
        console.print(escape(line))
    if state is not None:
        console.print(escape(state.line()))


def counted(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def listing_lines(artifacts: ArtifactList) -> list[str]:
    lines = [f"files ({len(artifacts.files)}):"]
    lines += [f"  {f.path}" + ("" if f.sha256 else "  (no checksum)") for f in artifacts.files]
    lines.append(f"images ({len(artifacts.images)}):")
    lines += [f"  {i.ref}" for i in artifacts.images]
    lines.append(f"charts ({len(artifacts.charts)}):")
    lines += [f"  {c.name} {c.version}  {c.repo}" for c in artifacts.charts]
    return lines


def pull(spec: Path, *, dest: Path, files_from: str | None, images_from: str | None,
         charts_from: str | None, insecure_registry: bool, arches: list[str], workers: int,
         authfile: Path | None, as_json: bool, ca_file: Path | None = None,
         stated_os: Sequence[str] = ()) -> None:
    from deepctl.artifacts.pull import PullOptions, check_options
    from deepctl.artifacts.pull import pull as run_pull

    loaded, artifacts = needed(spec, stated_os, refuse_unknown_os=True)
    image_arch = loaded.cluster.spec.kubespray_vars.get("image_arch", "amd64")
    opts = PullOptions(dest=dest, files_from=files_from, images_from=images_from,
                       charts_from=charts_from, insecure_registry=insecure_registry,
                       arches=tuple(arches) or (str(image_arch),), workers=workers,
                       authfile=authfile, ca_file=ca_file)
    check_options(opts)
    if insecure_registry:
        stderr().print(f"[yellow]note:[/] TLS verification is off for {escape(str(images_from))} "
                       "(--insecure-registry)")
    summary = run_pull(artifacts, opts, _reporter(as_json, "fetched"))
    again = shlex.join(["deepctl", "artifacts", "pull", str(spec), "--dest", str(dest),
                        *_from_args(files_from, images_from, charts_from, insecure_registry),
                        *[a for arch in arches for a in ("--arch", arch)],
                        *_authfile_args(authfile), *_ca_args(ca_file),
                        *[a for tag in stated_os for a in ("--os", tag)]])
    _conclude(summary, as_json, {"dest": str(dest.resolve())},
              hint=f"fix what is listed, then run `{again}` again: what is verified is skipped")


def _from_args(files_from: str | None, images_from: str | None, charts_from: str | None,
               insecure: bool) -> list[str]:
    args: list[str] = []
    for flag, value in (("--files-from", files_from), ("--images-from", images_from),
                        ("--charts-from", charts_from)):
        if value:
            args += [flag, value]
    return args + (["--insecure-registry"] if insecure else [])


def _authfile_args(authfile: Path | None) -> list[str]:
    return ["--authfile", str(authfile)] if authfile is not None else []


def _ca_args(ca_file: Path | None) -> list[str]:
    return ["--ca-file", str(ca_file)] if ca_file is not None else []


def push_target(spec: Path | None, registry: str | None, insecure_registry: bool,
                ca_file: Path | None) -> tuple[str, bool, Path | None]:
    """(registry, insecure, CA file): the options, else the spec's ``offline`` settings."""
    if spec is not None:
        offline = load_spec(spec).cluster.spec.offline
        if offline is None:
            raise UsageError(f"{spec} has no spec.offline, so it names no registry to push to",
                             hint="give --registry HOST:PORT, or add spec.offline to the spec")
        registry = registry or offline.registry
        insecure_registry = insecure_registry or offline.insecure_registry
        ca_file = ca_file or offline.ca_file
    if not registry:
        raise UsageError("give --registry HOST:PORT (or --spec SPEC with spec.offline.registry)")
    if ca_file is not None:
        try:
            check_ca_bundle(ca_file, str(ca_file))
        except ValueError as exc:
            raise UsageError(str(exc).replace("caFile", "--ca-file", 1)) from None
    return registry, insecure_registry, ca_file


def push(source: Path, *, registry: str | None, insecure_registry: bool, authfile: Path | None,
         workers: int, as_json: bool, ca_file: Path | None = None,
         spec: Path | None = None) -> None:
    from deepctl.artifacts.push import PushOptions
    from deepctl.artifacts.push import push as run_push

    registry, insecure_registry, ca_file = push_target(spec, registry, insecure_registry, ca_file)
    opts = PushOptions(source=source, registry=registry, insecure_registry=insecure_registry,
                       authfile=authfile, workers=workers, ca_file=ca_file)
    if insecure_registry:
        stderr().print(f"[yellow]note:[/] TLS verification is off for {escape(registry)} "
                       "(--insecure-registry)")
    summary = run_push(opts, _reporter(as_json, "pushed"))
    again = shlex.join(["deepctl", "artifacts", "push", str(source), "--registry", registry,
                        *(["--insecure-registry"] if insecure_registry else []),
                        *_authfile_args(authfile), *_ca_args(ca_file)])
    _conclude(summary, as_json, {"registry": registry},
              hint=f"fix what is listed, then run `{again}` again")


def _reporter(as_json: bool, verb: str) -> Reporter:
    if as_json:  # stdout holds the JSON document only
        return PlainReporter(sys.stderr, verb)
    return reporter_for(stdout(), sys.stdout, verb)


def _conclude(summary: Summary, as_json: bool, extra: dict[str, Any], *, hint: str) -> None:
    report = {**extra, **summary.to_json()}
    failures = summary.failures
    if not as_json:
        console = stdout()
        for line in summary_lines(summary):
            console.print(escape(line))
    if summary.problem is not None:
        raise ArtifactError(summary.problem, report=report if as_json else None,
                            hint="free some space on that disk, then run the pull again: "
                            "what is verified is skipped")
    if failures:
        shown = "; ".join(f"{f.name}: {f.error}" for f in failures[:5])
        more = f" (and {len(failures) - 5} more)" if len(failures) > 5 else ""
        raise ArtifactError(f"{len(failures)} artifact(s) failed: {shown}{more}", hint=hint,
                            report=report if as_json else None)
    if as_json:
        print_json(report)
