"""The state directory's disk fills up: a clear error, nothing half-written, spec untouched."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from deepctl.init_spec import example_options, render_spec

DEEPCTL = str(Path(sys.executable).parent / "deepctl")
pytestmark = pytest.mark.integration


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs, mounted for this test only (needs root)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path, leave: int) -> None:
    """Fill ``disk`` up to ``leave`` free bytes."""
    stats = os.statvfs(disk)
    free = stats.f_bavail * stats.f_frsize
    with open(disk / "filler", "wb") as handle:
        handle.write(b"\0" * max(0, free - leave))


def test_full_disk_during_render_is_a_clear_error_and_leaves_no_partial_file(
        tiny_disk: Path, tmp_path: Path) -> None:
    opts, hosts = example_options("ha")
    spec = tmp_path / "cluster.yaml"
    spec.write_text(render_spec(opts, hosts, spec.name))
    state = tiny_disk / "state"

    first = subprocess.run([DEEPCTL, "validate", str(spec), "--no-kubespray",
                            "--state-dir", str(state)], capture_output=True, text=True, check=False)
    assert first.returncode == 0, first.stdout + first.stderr
    hosts_file = state / "inventory" / "hosts.yaml"
    good = hosts_file.read_text()

    spec.write_text(spec.read_text().replace("name: ha-cluster", "name: ha-cluster-2"))
    edited = hashlib.sha256(spec.read_bytes()).hexdigest()
    fill(tiny_disk, leave=0)
    second = subprocess.run([DEEPCTL, "validate", str(spec), "--no-kubespray",
                             "--state-dir", str(state)], capture_output=True, text=True,
                            check=False)
    output = second.stdout + second.stderr
    assert second.returncode == 1, output
    assert "No space left on device" in output and "cannot write" in output
    assert "Traceback" not in output
    # the old inventory is intact, no temporary file is left behind, the spec is untouched
    assert hosts_file.read_text() == good
    leftovers = [p.name for p in state.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []
    assert hashlib.sha256(spec.read_bytes()).hexdigest() == edited


def test_a_pull_onto_a_full_disk_prints_its_summary_and_leaves_no_temporary_file(
        tiny_disk: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 27 §7: the per-kind summary is always printed; no ``.index.json.tmp`` is left."""
    from typer.testing import CliRunner

    from deepctl.artifacts.model import ArtifactList, ImageArtifact
    from deepctl.cli.application import app
    from tests.mirror_support import (
        LoopbackUpstream,
        loopback_registry,
        push_oci_image,
        skopeo_missing,
        write_tiny_oci_image,
        write_upstream_files,
    )
    from tests.specs import MINIMAL_SPEC

    if skopeo_missing():
        pytest.skip(str(skopeo_missing()))
    files = write_upstream_files(tmp_path / "web", 1, size=20_000)
    image = ArtifactList((), (ImageArtifact("tiny:1.0"),), ())
    both = ArtifactList(tuple(files), image.images, ())
    listed = [image]
    monkeypatch.setattr("deepctl.artifacts.listing.list_artifacts",
                        lambda cluster, tree, **_: listed[0])
    spec = tmp_path / "cluster.yaml"
    standin = Path(__file__).resolve().parents[1] / "fixtures" / "kubespray-standin"
    spec.write_text(MINIMAL_SPEC.replace("spec:\n", f"spec:\n  kubespray:\n    path: {standin}\n", 1))
    mirror = tiny_disk / "mirror"
    upstream = LoopbackUpstream(tmp_path / "web")
    with loopback_registry(tmp_path / "reg") as registry:
        write_tiny_oci_image(tmp_path / "built", "tiny")
        push_oci_image(tmp_path / "built", "tiny", f"{registry.host}/library/tiny:1.0")
        pull = ["artifacts", "pull", str(spec), "--dest", str(mirror), "--images-from",
                registry.host, "--insecure-registry", "--files-from", upstream.url]
        first = CliRunner().invoke(app, pull)
        assert first.exit_code == 0, first.output
        listed[0] = both
        fill(tiny_disk, leave=0)
        second = CliRunner().invoke(app, pull)
    upstream.close()

    assert second.exit_code == 1, second.output
    assert "files: 0 fetched, 0 already there, 1 failed" in second.output
    assert "images: 0 fetched, 1 already there, 0 failed" in second.output
    assert "No space left on device" in second.output and "Traceback" not in second.output
    left = [p.name for p in mirror.rglob("*")
            if p.name.endswith((".tmp", ".partial")) or ".part-" in p.name]
    assert left == []
    assert (mirror / "images" / "index.json").is_file()  # the last good index is kept
