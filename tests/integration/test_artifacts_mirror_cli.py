"""`deepctl artifacts list | pull | push` as a user types them (Typer's CliRunner).

Everything a pull asks for comes from 127.0.0.1: a real HTTP upstream (files_repo layout and
a Helm repository) and real `docker-registry` processes; nothing reaches the internet.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deepctl.artifacts.model import ArtifactList, ChartArtifact, ImageArtifact
from deepctl.cli.application import app
from tests.mirror_support import (
    LoopbackRegistry,
    LoopbackUpstream,
    loopback_registry,
    push_oci_image,
    skopeo_inspect,
    skopeo_missing,
    write_tiny_chart,
    write_tiny_oci_image,
    write_upstream_files,
)
from tests.specs import MINIMAL_SPEC

ROOT = Path(__file__).resolve().parents[2]
KUBESPRAY = ROOT.parent / "shared" / "kubespray-v2.31.0"
STANDIN = ROOT / "tests" / "fixtures" / "kubespray-standin"
needs_registry = pytest.mark.skipif(skopeo_missing() is not None, reason=str(skopeo_missing()))


def spec_with_tree(directory: Path, tree: Path) -> Path:
    spec = directory / "cluster.yaml"
    spec.write_text(MINIMAL_SPEC.replace("spec:\n", f"spec:\n  kubespray:\n    path: {tree}\n", 1))
    return spec


@pytest.fixture
def mirror_sources(tmp_path: Path) -> Iterator[tuple[LoopbackUpstream, LoopbackRegistry]]:
    """An HTTP upstream with 5 files and a Helm repo, and a registry holding one image."""
    web = tmp_path / "web"
    write_upstream_files(web / "files", 5)
    write_tiny_chart(web / "charts", "tiny", "1.0.0")
    upstream = LoopbackUpstream(web)
    with loopback_registry(tmp_path / "reg-a") as registry:
        write_tiny_oci_image(tmp_path / "built", "tiny")
        push_oci_image(tmp_path / "built", "tiny", f"{registry.host}/library/tiny:1.0")
        try:
            yield upstream, registry
        finally:
            upstream.close()


@needs_registry
def test_pull_then_pull_again_then_push_through_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    mirror_sources: tuple[LoopbackUpstream, LoopbackRegistry],
) -> None:
    """The list is replaced by a test list (the only thing patched); the rest runs for real."""
    upstream, registry = mirror_sources
    files = write_upstream_files(tmp_path / "unused", 5)  # same artifacts as the upstream's
    listed = ArtifactList(tuple(files), (ImageArtifact("tiny:1.0"),),
                          (ChartArtifact("tiny", "1.0.0", "https://charts.example.test"),))
    monkeypatch.setattr("deepctl.artifacts.listing.list_artifacts", lambda cluster, tree, **_: listed)
    spec = spec_with_tree(tmp_path, STANDIN)
    mirror = tmp_path / "mirror"
    pull = ["artifacts", "pull", str(spec), "--dest", str(mirror),
            "--files-from", f"{upstream.url}/files", "--images-from", registry.host,
            "--insecure-registry", "--charts-from", f"{upstream.url}/charts"]

    first = CliRunner().invoke(app, pull)

    assert first.exit_code == 0, first.output
    assert f"file {files[0].path}: fetched (1.0 kB)" in first.output
    assert "image tiny:1.0: fetched" in first.output
    assert "files: 5 fetched, 0 already there, 0 failed" in first.output
    assert (mirror / "files" / files[4].path).is_file()
    assert (mirror / "charts" / "tiny-1.0.0.tgz").is_file()
    asked = list(upstream.requests)

    again = CliRunner().invoke(app, [*pull, "--json"])

    assert again.exit_code == 0, again.output
    report = json.loads(again.stdout)
    assert report["counts"]["file"] == {"fetched": 0, "skipped": 5, "failed": 0}
    assert report["counts"]["image"]["skipped"] == report["counts"]["chart"]["skipped"] == 1
    assert upstream.requests == asked  # the second pull asked the upstream nothing

    with loopback_registry(tmp_path / "reg-b") as target:
        pushed = CliRunner().invoke(app, ["artifacts", "push", str(mirror), "--registry",
                                          target.host, "--insecure-registry", "--json"])
        assert pushed.exit_code == 0, pushed.output
        assert json.loads(pushed.stdout)["counts"]["image"]["fetched"] == 1
        assert skopeo_inspect(f"{target.host}/library/tiny:1.0")["RepoTags"] == ["1.0"]


@pytest.mark.skipif(not KUBESPRAY.is_dir(), reason=f"the real Kubespray tree is absent ({KUBESPRAY})")
@needs_registry
def test_the_real_list_drives_a_pull_from_loopback_mirrors_that_refuse_every_bad_file(
    tmp_path: Path, mirror_sources: tuple[LoopbackUpstream, LoopbackRegistry],
) -> None:
    """Real Kubespray list; the upstream serves each listed path with the wrong content, except
    kubelet, whose checksum variable the spec overrides to the sha256 of a test file: that
    file passes, and every file that does not match Kubespray's own pin is refused."""
    upstream, registry = mirror_sources
    test_kubelet = b"a test kubelet, not the real one\n"
    spec = spec_with_tree(tmp_path, KUBESPRAY)
    spec.write_text(spec.read_text() + "  kubesprayVars:\n    kubelet_binary_checksum: "
                    f"{hashlib.sha256(test_kubelet).hexdigest()}\n")
    listed = CliRunner().invoke(app, ["artifacts", "list", str(spec), "--json"])
    assert listed.exit_code == 0, listed.output
    document = json.loads(listed.stdout)
    assert set(document) == {"files", "images", "charts"}
    kubeadm = next(f for f in document["files"] if f["name"] == "kubeadm")
    assert set(kubeadm) == {"name", "url", "sha256", "path"}
    assert kubeadm["url"] == f"https://{kubeadm['path']}" and len(kubeadm["sha256"]) == 64
    assert {"ref": "registry.k8s.io/kube-apiserver:v1.35.4"} in document["images"]
    for item in document["files"]:  # the right paths, the wrong bytes
        served = tmp_path / "web" / "files" / item["path"]
        served.parent.mkdir(parents=True, exist_ok=True)
        served.write_text("not the pinned file\n")
    kubelet = next(f for f in document["files"] if f["name"] == "kubelet")
    assert kubelet["sha256"] == hashlib.sha256(test_kubelet).hexdigest()
    (tmp_path / "web" / "files" / kubelet["path"]).write_bytes(test_kubelet)

    result = CliRunner().invoke(app, [
        "artifacts", "pull", str(spec), "--dest", str(tmp_path / "mirror"),
        "--files-from", f"{upstream.url}/files", "--images-from", registry.host,
        "--insecure-registry", "--charts-from", f"{upstream.url}/charts"])

    assert result.exit_code == 1
    assert f"file {kubeadm['path']}: FAILED: checksum mismatch, expected sha256 " in (
        result.output)
    assert f"hint: fix what is listed, then run `deepctl artifacts pull {spec} --dest" in (
        result.output)
    assert f"/files/{kubeadm['path']}" in upstream.requests
    assert not list((tmp_path / "mirror" / "files").rglob("kubeadm"))
    assert (tmp_path / "mirror" / "files" / kubelet["path"]).read_bytes() == test_kubelet
    assert f"file {kubelet['path']}: fetched" in result.output


def test_list_prints_counts_every_item_in_full_and_what_a_mirror_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    files = write_upstream_files(tmp_path / "mirror" / "files", 3, size=2000)
    (tmp_path / "mirror" / "files" / files[2].path).unlink()
    listed = ArtifactList(tuple(files), (ImageArtifact("quay.io/calico/node:v3.31.5"),),
                          (ChartArtifact("tiny", "1.0.0", "https://charts.example.test"),))
    monkeypatch.setattr("deepctl.artifacts.listing.list_artifacts", lambda cluster, tree, **_: listed)
    spec = spec_with_tree(tmp_path, STANDIN)

    result = CliRunner().invoke(app, ["artifacts", "list", str(spec), "--mirror",
                                      str(tmp_path / "mirror")])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"{spec} needs 3 files, 1 image and 1 chart"
    assert f"  {files[0].path}" in lines and "  quay.io/calico/node:v3.31.5" in lines
    assert "  tiny 1.0.0  https://charts.example.test" in lines
    assert lines[-1] == (f"in {tmp_path / 'mirror'}: 2 of 3 files verified (4.0 kB on disk); "
                         "0 of 1 images verified; 0 of 1 charts verified")
    as_json = CliRunner().invoke(app, ["artifacts", "list", str(spec), "--json"])
    assert json.loads(as_json.stdout) == listed.to_json()


def test_a_failed_pull_under_json_is_one_error_document_with_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    files = write_upstream_files(tmp_path / "unused", 2)
    monkeypatch.setattr("deepctl.artifacts.listing.list_artifacts",
                        lambda cluster, tree, **_: ArtifactList(tuple(files), (), ()))
    spec = spec_with_tree(tmp_path, STANDIN)
    (tmp_path / "empty").mkdir()
    empty = LoopbackUpstream(tmp_path / "empty")  # answers 404 for every file
    try:
        result = CliRunner().invoke(app, ["artifacts", "pull", str(spec), "--dest",
                                          str(tmp_path / "m"), "--files-from", empty.url,
                                          "--json"])
    finally:
        empty.close()

    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["error"]["kind"] == "artifacts"
    assert document["error"]["message"].startswith("2 artifact(s) failed: ")
    assert document["error"]["report"]["counts"]["file"] == {"fetched": 0, "skipped": 0,
                                                            "failed": 2}
    assert f"--files-from {empty.url}" in document["error"]["hint"]


def test_list_mirror_counts_only_verified_files_and_json_keeps_the_mirror(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 27 §6 and §8: saved error pages are present, not verified; --json keeps --mirror."""
    mirror = tmp_path / "mirror"
    files = write_upstream_files(mirror / "files", 12, size=2000)
    for item in files[:10]:  # what a proxy saved instead of the files
        (mirror / "files" / item.path).write_text("<html>502 Bad Gateway</html>\n")
    listed = ArtifactList(tuple(files), (ImageArtifact("quay.io/calico/node:v3.31.5"),), ())
    monkeypatch.setattr("deepctl.artifacts.listing.list_artifacts", lambda cluster, tree, **_: listed)
    spec = spec_with_tree(tmp_path, STANDIN)

    result = CliRunner().invoke(app, ["artifacts", "list", str(spec), "--mirror", str(mirror)])

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == (
        f"in {mirror}: 2 of 12 files verified (4.0 kB on disk), 10 present but not verified; "
        "0 of 1 images verified; 0 of 0 charts verified")
    as_json = CliRunner().invoke(app, ["artifacts", "list", str(spec), "--json", "--mirror",
                                       str(mirror)])
    document = json.loads(as_json.stdout)
    assert document["mirror"] == {
        "path": str(mirror),
        "files": {"total": 12, "verified": 2, "unverified": 10, "bytes": 4000, "missing": 0},
        "images": {"total": 1, "verified": 0, "unverified": 0, "bytes": 0, "missing": 1},
        "charts": {"total": 0, "verified": 0, "unverified": 0, "bytes": 0, "missing": 0},
    }
    assert {k: v for k, v in document.items() if k != "mirror"} == listed.to_json()


GPU_SPEC = MINIMAL_SPEC.replace(
    "      roles: [control-plane, etcd, worker]\n",
    "      roles: [control-plane, etcd, worker]\n    - name: gpu1\n      address: 192.0.2.21\n"
    "      roles: [worker]\n      gpu: true\n").replace(
    "gpu: {enabled: false}",
    "gpu: {enabled: true, driver: {install: true, version: 580.126.20}}\n"
    "    monitoring: {enabled: false}")


def drivers(output: str) -> list[str]:
    return [line.strip() for line in output.splitlines() if "nvcr.io/nvidia/driver:" in line]


def test_the_driver_image_is_named_for_the_gpu_hosts_os(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 27 §1: from preflight's saved facts, or --os; without either, pull refuses and
    list warns, each saying how to give it."""
    monkeypatch.setattr("deepctl.artifacts.listing.evaluate_downloads", lambda *a, **k: [])
    spec = tmp_path / "cluster.yaml"
    spec.write_text(GPU_SPEC.replace("spec:\n", f"spec:\n  kubespray:\n    path: {STANDIN}\n", 1))
    pull = ["artifacts", "pull", str(spec), "--dest", str(tmp_path / "m")]

    refused = CliRunner().invoke(app, pull)

    assert refused.exit_code == 2, refused.output
    assert "the OS of gpu1 is not known" in refused.output
    assert f"hint: run `deepctl preflight {spec}` (it saves each host's OS), or give the OS with " \
           "--os, e.g. --os ubuntu24.04" in refused.output
    assert not (tmp_path / "m").exists()
    warned = CliRunner().invoke(app, ["artifacts", "list", str(spec)])
    assert warned.exit_code == 0 and "warning: the GPU Operator pulls its driver image" in (
        warned.output)

    stated = CliRunner().invoke(app, ["artifacts", "list", str(spec), "--os", "rhel9.6"])
    assert drivers(stated.output) == ["nvcr.io/nvidia/driver:580.126.20-rhel9.6"]
    assert "warning" not in stated.output
    bad = CliRunner().invoke(app, ["artifacts", "list", str(spec), "--os", "Ubuntu 24.04"])
    assert bad.exit_code == 2 and "is not an OS tag like ubuntu24.04" in bad.output

    facts = tmp_path / ".deepctl" / "lab" / "facts" / "gpu1.json"  # what preflight saves
    facts.parent.mkdir(parents=True)
    facts.write_text(json.dumps({"os_release": {"ID": "ubuntu", "VERSION_ID": "24.04"}}))
    seen = CliRunner().invoke(app, ["artifacts", "list", str(spec)])
    assert seen.exit_code == 0 and "warning" not in seen.output
    assert drivers(seen.output) == ["nvcr.io/nvidia/driver:580.126.20-ubuntu24.04"]
