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
from deepctl.cli.application import app
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
from tests.specs import MINIMAL_SPEC

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
    with pytest.raises(ArtifactError, match=f"{a.host} does not speak TLS") as caught:
        pull(ArtifactList((), (ImageArtifact(REF),), ()),
             PullOptions(dest=tmp_path / "mirror", images_from=a.host))
    assert caught.value.hint is not None and "--insecure-registry" in caught.value.hint
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


def flip_one_byte(path: Path) -> None:
    """Damage ``path`` in place, same size (a bad disk sector, a bad copy)."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_a_blob_damaged_in_place_is_not_called_verified_and_is_fetched_again(
    tmp_path: Path, registries: tuple[LoopbackRegistry, LoopbackRegistry, str]
) -> None:
    """Issue 27 §2: presence and size are not verification."""
    a, _, digest = registries
    mirror = tmp_path / "mirror"
    listed = ArtifactList((), (ImageArtifact(REF),), ())
    opts = PullOptions(dest=mirror, images_from=a.host, insecure_registry=True)
    pull(listed, opts)
    layer = max((mirror / "images" / "blobs" / "sha256").iterdir(), key=lambda p: p.stat().st_size)
    good = layer.read_bytes()
    flip_one_byte(layer)

    again = pull(listed, opts)

    assert again.count("image", "fetched") == 1, again.results
    assert again.count("image", "skipped") == 0
    assert layer.read_bytes() == good  # repaired: the content matches its digest again
    third = pull(listed, opts)
    [skipped] = third.results
    assert (skipped.status, skipped.checked) == ("skipped", "digests")
    inspected = subprocess.run(["skopeo", "inspect", f"oci:{mirror / 'images'}:{REF}"],
                               capture_output=True, text=True, check=True)
    assert json.loads(inspected.stdout)["Digest"] == digest


def test_a_second_pull_into_the_same_directory_is_refused_naming_the_first(
    tmp_path: Path, registries: tuple[LoopbackRegistry, LoopbackRegistry, str]
) -> None:
    """Issue 27 §3: another process holds the mirror; this pull waits for nothing, writes nothing."""
    import sys

    a, _, _ = registries
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; "
         "from deepctl.artifacts.lock import mirror_lock\n"
         "with mirror_lock(Path(sys.argv[1])):\n print('held', flush=True); time.sleep(60)",
         str(mirror)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        listed = ArtifactList((), (ImageArtifact(REF),), ())
        with pytest.raises(ArtifactError) as caught:
            pull(listed, PullOptions(dest=mirror, images_from=a.host, insecure_registry=True))
        assert caught.value.message == f"another pull is using {mirror}, pid {holder.pid}"
        assert not (mirror / "images").exists()
    finally:
        holder.kill()
        holder.wait()
    summary = pull(ArtifactList((), (ImageArtifact(REF),), ()),
                   PullOptions(dest=mirror, images_from=a.host, insecure_registry=True))
    assert summary.count("image", "fetched") == 1  # the lock went with its process


def test_an_image_source_that_refuses_connections_is_one_message(tmp_path: Path) -> None:
    """Issue 22 §4: not 21 skopeo lines after retries: one message, before any image."""
    from tests.harness.addresses import free_port

    closed = f"127.0.0.1:{free_port('127.0.0.1')}"
    listed = ArtifactList((), tuple(ImageArtifact(f"quay.io/x/img{i}:1") for i in range(21)), ())
    with pytest.raises(ArtifactError) as caught:
        pull(listed, PullOptions(dest=tmp_path / "m", images_from=closed, insecure_registry=True))
    assert caught.value.message == (f"the image source (--images-from) at {closed} is "
                                    "unreachable (Connection refused); nothing was tried from it")


@pytest.fixture
def private_ca_registry(tmp_path: Path) -> Iterator[tuple[LoopbackRegistry, Path]]:
    """A site registry speaking TLS with a certificate signed by a CA made here."""
    from tests.tls_support import make_ca

    ca = make_ca(tmp_path / "site-ca", "site CA")
    with loopback_registry(tmp_path / "site", tls=ca.server_cert(tmp_path / "site-tls")) as site:
        yield site, ca.cert


def test_push_to_a_registry_signed_by_a_private_ca(
    tmp_path: Path, registries: tuple[LoopbackRegistry, LoopbackRegistry, str],
    private_ca_registry: tuple[LoopbackRegistry, Path],
) -> None:
    """Issue 27 §4: without the CA, one message with the fix; with --ca-file (or the spec's
    caFile), every image lands, verified over TLS."""
    a, _, digest = registries
    site, ca = private_ca_registry
    mirror = tmp_path / "mirror"
    listed = ArtifactList((), (ImageArtifact(REF), ImageArtifact(QUAY_REF)), ())
    pull(listed, PullOptions(dest=mirror, images_from=a.host, insecure_registry=True))

    refused = CliRunner().invoke(app, ["artifacts", "push", str(mirror), "--registry", site.host])

    assert refused.exit_code == 1, refused.output
    assert refused.output.count("error:") == 1, refused.output  # one message, not one per image
    assert f"image {REF}" not in refused.output
    assert f"the registry {site.host} has a certificate this machine does not trust" in (
        refused.output)
    assert "--ca-file CA.pem" in refused.output and "x509" not in refused.output

    pushed = CliRunner().invoke(app, ["artifacts", "push", str(mirror), "--registry", site.host,
                                      "--ca-file", str(ca)])

    assert pushed.exit_code == 0, pushed.output
    assert "images: 2 pushed, 0 already there, 0 failed" in pushed.output
    untrusted = subprocess.run(["skopeo", "inspect", f"docker://{site.host}/library/tiny:1.0"],
                               capture_output=True, text=True, check=False)
    assert "x509" in untrusted.stderr  # the site registry's TLS is verified, not skipped
    certs = tmp_path / "certs"
    certs.mkdir()
    (certs / "ca.crt").write_bytes(ca.read_bytes())
    found = subprocess.run(["skopeo", "inspect", "--cert-dir", str(certs),
                            f"docker://{site.host}/library/tiny:1.0"],
                           capture_output=True, text=True, check=True)
    assert json.loads(found.stdout)["Digest"] == digest

    spec = tmp_path / "cluster.yaml"
    spec.write_text(MINIMAL_SPEC.replace("gpu: {enabled: false}", "gpu: {enabled: false}\n"
                                         "    monitoring: {enabled: false}")
                    + f"  offline:\n    files: http://127.0.0.1:1/files\n"
                    f"    registry: {site.host}\n    caFile: {ca}\n")
    again = CliRunner().invoke(app, ["artifacts", "push", str(mirror), "--spec", str(spec)])
    assert again.exit_code == 0, again.output
    assert "images: 0 pushed, 2 already there, 0 failed" in again.output
    from_site = pull(listed, PullOptions(dest=tmp_path / "m2", images_from=site.host,
                                         ca_file=ca))  # --images-from with --ca-file: TLS kept
    assert from_site.count("image", "fetched") == 2, from_site.failures


def test_skopeo_failures_show_the_cause_and_keep_the_raw_text_in_the_log(
    tmp_path: Path, registries: tuple[LoopbackRegistry, LoopbackRegistry, str],
) -> None:
    a, _, _ = registries
    mirror = tmp_path / "mirror"
    listed = ArtifactList((), (ImageArtifact("docker.io/library/absent:9"),), ())
    summary = pull(listed, PullOptions(dest=mirror, images_from=a.host, insecure_registry=True))
    [failure] = summary.failures
    assert failure.error is not None and "level=" not in failure.error
    assert "time=" not in failure.error and "manifest unknown" in failure.error
    log = (mirror / "skopeo.log").read_text()
    assert "level=fatal" in log and "docker.io/library/absent:9" in log
