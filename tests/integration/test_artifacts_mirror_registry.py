"""Images through two real loopback registries (Debian's docker-registry) and real skopeo.

A tiny OCI image built here is put into registry A; `artifacts pull --images-from A` copies
it into the mirror's OCI layout; `artifacts push` (the CLI, as a user types it) copies it
into registry B, where `skopeo inspect` finds the same digest at the registry_host path.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deepctl.artifacts.images import image_present, layout_digests
from deepctl.artifacts.model import ArtifactList, ChartArtifact, ImageArtifact
from deepctl.artifacts.progress import Kind, SilentReporter
from deepctl.artifacts.pull import PullOptions, pull
from deepctl.artifacts.push import PushOptions, push
from deepctl.cli import app
from deepctl.errors import ArtifactError
from tests.mirror_support import (
    LoopbackRegistry,
    loopback_registry,
    push_oci_chart,
    push_oci_image,
    skopeo_inspect,
    skopeo_missing,
    write_tiny_chart,
    write_tiny_oci_image,
)

pytestmark = pytest.mark.skipif(skopeo_missing() is not None, reason=str(skopeo_missing()))

REF = "docker.io/library/tiny:1.0"
QUAY_REF = "quay.io/deepctl-test/second:v2"


class RecordingReporter(SilentReporter):
    def __init__(self) -> None:
        self.advanced: dict[str, list[int]] = {"file": [], "chart": [], "image": []}

    def advance(self, kind: Kind, nbytes: int) -> None:
        self.advanced[kind].append(nbytes)


@pytest.fixture
def registries(tmp_path: Path) -> Iterator[tuple[LoopbackRegistry, LoopbackRegistry, str]]:
    """Registry A holding two test images (registry_host layout), and an empty registry B."""
    with loopback_registry(tmp_path / "reg-a") as a, loopback_registry(tmp_path / "reg-b") as b:
        write_tiny_oci_image(tmp_path / "built", "tiny")
        write_tiny_oci_image(tmp_path / "built2", "second", text="another image\n")
        push_oci_image(tmp_path / "built", "tiny", f"{a.host}/library/tiny:1.0")
        push_oci_image(tmp_path / "built2", "second", f"{a.host}/deepctl-test/second:v2")
        digest = skopeo_inspect(f"{a.host}/library/tiny:1.0")["Digest"]
        yield a, b, digest


def test_pull_from_one_registry_then_push_into_another(
    tmp_path: Path, registries: tuple[LoopbackRegistry, LoopbackRegistry, str]
) -> None:
    a, b, digest = registries
    mirror = tmp_path / "mirror"
    listed = ArtifactList((), (ImageArtifact("tiny:1.0"), ImageArtifact(QUAY_REF)), ())

    bar = RecordingReporter()
    pulled = pull(listed, PullOptions(dest=mirror, images_from=a.host, insecure_registry=True),
                  bar)

    assert pulled.count("image", "fetched") == 2, pulled.failures
    blobs = sum(p.stat().st_size for p in (mirror / "images" / "blobs" / "sha256").iterdir())
    assert pulled.image_bytes == blobs == sum(bar.advanced["image"])  # the bar shows bytes
    assert list(layout_digests(mirror / "images")) == [REF, QUAY_REF]
    inspected = subprocess.run(["skopeo", "inspect", f"oci:{mirror / 'images'}:{REF}"],
                               capture_output=True, text=True, check=True)
    assert json.loads(inspected.stdout)["Digest"] == digest

    result = CliRunner().invoke(app, ["artifacts", "push", str(mirror), "--registry", b.host,
                                      "--insecure-registry"])

    assert result.exit_code == 0, result.output
    assert "images: 2 pushed, 0 already there, 0 failed" in result.output
    assert skopeo_inspect(f"{b.host}/library/tiny:1.0")["Digest"] == digest
    assert skopeo_inspect(f"{b.host}/deepctl-test/second:v2")["RepoTags"] == ["v2"]
    again = push(PushOptions(source=mirror, registry=b.host, insecure_registry=True))
    assert again.count("image", "skipped") == 2  # already there with the same digest


def test_a_second_pull_skips_every_image_and_a_damaged_one_is_fetched_again(
    tmp_path: Path, registries: tuple[LoopbackRegistry, LoopbackRegistry, str]
) -> None:
    a, _, _ = registries
    mirror = tmp_path / "mirror"
    listed = ArtifactList((), (ImageArtifact(REF),), ())
    opts = PullOptions(dest=mirror, images_from=a.host, insecure_registry=True)
    pull(listed, opts)

    again = pull(listed, opts)
    assert again.count("image", "skipped") == 1 and again.transferred() == 0
    layer = max((mirror / "images" / "blobs" / "sha256").iterdir(), key=lambda p: p.stat().st_size)
    layer.unlink()
    assert not image_present(mirror / "images", REF)
    assert pull(listed, opts).count("image", "fetched") == 1
    assert image_present(mirror / "images", REF)


def test_without_insecure_registry_a_plain_http_registry_is_refused(
    tmp_path: Path, registries: tuple[LoopbackRegistry, LoopbackRegistry, str]
) -> None:
    a, _, _ = registries
    summary = pull(ArtifactList((), (ImageArtifact(REF),), ()),
                   PullOptions(dest=tmp_path / "mirror", images_from=a.host))
    [failure] = summary.failures
    assert failure.error is not None and f"image {REF} (from {a.host}/library/tiny:1.0)" in failure.error
    assert not image_present(tmp_path / "mirror" / "images", REF)


def test_push_of_a_directory_that_is_no_mirror_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="not a mirror directory") as caught:
        push(PushOptions(source=tmp_path, registry="127.0.0.1:5000"))
    assert caught.value.hint is not None and "deepctl artifacts pull" in caught.value.hint


def test_without_skopeo_the_error_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ArtifactError, match="skopeo is not installed") as caught:
        pull(ArtifactList((), (ImageArtifact(REF),), ()), PullOptions(dest=tmp_path / "m"))
    assert caught.value.hint is not None and "apt-get install -y skopeo" in caught.value.hint


def test_an_oci_chart_comes_from_its_place_in_the_images_from_registry(tmp_path: Path) -> None:
    package = write_tiny_chart(tmp_path / "built", "slurm", "1.1.3")
    with loopback_registry(tmp_path / "reg") as registry:
        push_oci_chart(registry.host, "slinkyproject/charts/slurm", package, "1.1.3")
        chart = ChartArtifact("slurm", "1.1.3", "oci://ghcr.io/slinkyproject/charts")
        listed = ArtifactList((), (), (chart,))
        summary = pull(listed, PullOptions(dest=tmp_path / "mirror", images_from=registry.host,
                                           insecure_registry=True))
    assert summary.count("chart", "fetched") == 1, summary.failures
    pulled = tmp_path / "mirror" / "charts" / "slurm-1.1.3.tgz"
    assert pulled.read_bytes() == package.read_bytes()
