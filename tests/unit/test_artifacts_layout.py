"""Pure parts of the air-gap mirror: where things go, skopeo command lines, what is shown."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from deepctl.artifacts import layout
from deepctl.artifacts.display import LiveReporter, PlainReporter, reporter_for, summary_lines
from deepctl.artifacts.images import SkopeoOptions, inspect_raw_argv, pull_argv, push_argv
from deepctl.artifacts.model import ArtifactList, ChartArtifact, FileArtifact, ImageArtifact
from deepctl.artifacts.progress import ItemResult, Summary
from deepctl.artifacts.push import plan
from deepctl.errors import ArtifactError

KUBEADM = FileArtifact(
    "kubeadm", "https://dl.k8s.io/release/v1.35.1/bin/linux/amd64/kubeadm", "ab" * 32,
    "dl.k8s.io/release/v1.35.1/bin/linux/amd64/kubeadm",
)


@pytest.mark.parametrize(
    ("ref", "full"),
    [
        ("nginx:1.27", "docker.io/library/nginx:1.27"),
        ("calico/node:v3.30.3", "docker.io/calico/node:v3.30.3"),
        ("quay.io/calico/node:v3.30.3", "quay.io/calico/node:v3.30.3"),
        ("localhost/x:1", "localhost/x:1"),
        ("127.0.0.1:5000/x/y:1", "127.0.0.1:5000/x/y:1"),
    ],
)
def test_references_are_made_full(ref: str, full: str) -> None:
    assert layout.normalize_ref(ref) == full


def test_the_registry_host_layout_drops_the_source_registry() -> None:
    assert layout.mirror_ref("registry.k8s.io/kube-apiserver:v1.35.1", "mirror.lab:5000") == (
        "mirror.lab:5000/kube-apiserver:v1.35.1")
    assert layout.mirror_ref("nginx:1", "mirror.lab:5000/") == "mirror.lab:5000/library/nginx:1"
    with pytest.raises(ArtifactError, match="without a scheme"):
        layout.mirror_ref("nginx:1", "http://mirror.lab:5000")


def test_tag_and_digest_refs_are_read_by_digest_and_pushed_by_tag() -> None:
    ref = "nvcr.io/nvidia/gpu-operator:v26.3.3@sha256:" + "c" * 64
    assert layout.pullable(ref) == "nvcr.io/nvidia/gpu-operator@sha256:" + "c" * 64
    assert layout.pushable(ref) == "nvcr.io/nvidia/gpu-operator:v26.3.3"
    digest_only = "quay.io/x/y@sha256:" + "d" * 64
    assert layout.pullable(digest_only) == layout.pushable(digest_only) == digest_only
    assert layout.pullable("127.0.0.1:5000/x:1") == "127.0.0.1:5000/x:1"


def test_files_go_to_the_files_repo_layout_from_the_source_or_a_mirror(tmp_path: Path) -> None:
    assert layout.file_dest(tmp_path, KUBEADM) == tmp_path / "files" / KUBEADM.path
    assert layout.file_source(KUBEADM, None) == KUBEADM.url
    assert layout.file_source(KUBEADM, "http://proxy.lab/files/") == (
        f"http://proxy.lab/files/{KUBEADM.path}")


@pytest.mark.parametrize("path", ["../x", "/etc/passwd", "a/./../../b", "a/../../b", ""])
def test_paths_that_leave_the_mirror_are_refused(path: str) -> None:
    with pytest.raises(ArtifactError, match="would leave the mirror"):
        layout.safe_relative(path)


def test_image_slugs_are_readable_and_distinct() -> None:
    a, b = layout.image_slug("quay.io/a/b_c:1"), layout.image_slug("quay.io/a_b/c:1")
    assert a.startswith("quay.io_a_b_c_1-") and a != b


def test_skopeo_pull_and_push_command_lines(tmp_path: Path) -> None:
    opts = SkopeoOptions("/usr/bin/skopeo", ("arm64",), Path("/root/auth.json"))
    assert pull_argv(opts, "reg:5000/library/x:1", tmp_path / "l", "docker.io/library/x:1",
                     tmp_path / "blobs", tls_verify=False) == [
        "/usr/bin/skopeo", "--override-arch", "arm64", "--override-os", "linux", "copy",
        "--quiet", "--retry-times", "3", "--src-authfile", "/root/auth.json",
        "--src-tls-verify=false", "--dest-shared-blob-dir", str(tmp_path / "blobs"),
        "docker://reg:5000/library/x:1", f"oci:{tmp_path / 'l'}:docker.io/library/x:1",
    ]
    several = SkopeoOptions("skopeo", ("amd64", "arm64"))
    assert "--multi-arch" in pull_argv(several, "x:1", tmp_path, "x:1", tmp_path, tls_verify=True)
    assert push_argv(SkopeoOptions("skopeo"), tmp_path, "docker.io/library/x:1", "reg/library/x:1",
                     tls_verify=True) == [
        "skopeo", "copy", "--quiet", "--retry-times", "3", "--multi-arch", "all",
        "--dest-tls-verify=true", f"oci:{tmp_path}:docker.io/library/x:1",
        "docker://reg/library/x:1",
    ]


def test_push_asks_the_registry_for_its_manifest_first(tmp_path: Path) -> None:
    opts = SkopeoOptions("skopeo", authfile=tmp_path / "auth.json")
    assert inspect_raw_argv(opts, "reg/x:1", tls_verify=False) == [
        "skopeo", "inspect", "--raw", "--retry-times", "1", "--authfile",
        str(tmp_path / "auth.json"), "--tls-verify=false", "docker://reg/x:1",
    ]


def test_no_credential_is_ever_on_a_skopeo_command_line(tmp_path: Path) -> None:
    argv = push_argv(SkopeoOptions("skopeo", authfile=tmp_path / "auth.json"), tmp_path, "x:1",
                     "reg/x:1", tls_verify=True)
    assert not any(a.startswith(("--creds", "--dest-creds", "--password")) for a in argv)


def test_a_push_plan_refuses_two_images_landing_on_one_place() -> None:
    assert plan(["docker.io/library/x:1"], "reg:5000") == [
        ("docker.io/library/x:1", "reg:5000/library/x:1")]
    with pytest.raises(ArtifactError, match="would both be pushed to reg:5000/a/b:1"):
        plan(["quay.io/a/b:1", "ghcr.io/a/b:1"], "reg:5000")


def test_the_json_shape_of_a_list() -> None:
    listed = ArtifactList((KUBEADM,), (ImageArtifact("quay.io/a/b:1"),),
                          (ChartArtifact("loki", "18.11.0", "https://charts.example"),))
    assert listed.to_json() == {
        "files": [{"name": "kubeadm", "url": KUBEADM.url, "sha256": "ab" * 32,
                   "path": KUBEADM.path}],
        "images": [{"ref": "quay.io/a/b:1"}],
        "charts": [{"name": "loki", "version": "18.11.0", "repo": "https://charts.example"}],
    }


SUMMARY = Summary("pull", (
    ItemResult("file", "dl.k8s.io/a/very/long/path/kubeadm", "fetched", 2_500_000),
    ItemResult("file", "dl.k8s.io/b", "skipped", checked="sha256"),
    ItemResult("file", "dl.k8s.io/c", "failed", 24_000_000, error="checksum mismatch"),
    ItemResult("chart", "loki-18.11.0.tgz", "skipped", checked="unchanged"),
    ItemResult("image", "quay.io/a/b:1", "fetched"),
))


def test_plain_lines_name_each_item_in_full_and_the_summary_counts() -> None:
    out = io.StringIO()
    reporter = PlainReporter(out)
    reporter.begin("file", 3)
    for result in SUMMARY.results:
        reporter.done(result)
    assert out.getvalue().splitlines() == [
        "files: 3 to check",
        "file dl.k8s.io/a/very/long/path/kubeadm: fetched (2.5 MB)",
        "file dl.k8s.io/b: already there (sha256 verified), skipped",
        "file dl.k8s.io/c: FAILED: checksum mismatch",
        "chart loki-18.11.0.tgz: already there (unchanged since it was fetched; no checksum to "
        "verify), skipped",
        "image quay.io/a/b:1: fetched",
    ]
    assert summary_lines(SUMMARY) == [
        "files: 1 fetched, 1 already there, 1 failed",
        "charts: 0 fetched, 1 already there, 0 failed",
        "images: 1 fetched, 0 already there, 0 failed",
        "downloaded: 26.5 MB (24.0 MB of it rejected and not kept)",
    ]
    assert SUMMARY.to_json()["counts"]["file"] == {"fetched": 1, "skipped": 1, "failed": 1}


def test_a_terminal_gets_a_live_bar_with_bytes_and_a_pipe_plain_lines() -> None:
    terminal = Console(file=io.StringIO(), force_terminal=True, width=120)
    live = reporter_for(terminal, io.StringIO(), "fetched")
    assert isinstance(live, LiveReporter)
    live.begin("file", 2)
    live.advance("file", 3_000_000)
    live.done(SUMMARY.results[2])
    live.close()
    shown = terminal.file.getvalue()  # type: ignore[attr-defined]
    assert "files" in shown and "1/2" in shown and "3.0 MB at" in shown
    assert "checksum mismatch" in shown
    assert isinstance(reporter_for(Console(file=io.StringIO()), io.StringIO(), "x"), PlainReporter)
