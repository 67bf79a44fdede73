"""Kubespray's downloads evaluated by Ansible from the REAL Kubespray tree
(``DEEPCTL_TEST_KUBESPRAY``, or ../shared/kubespray-v2.31.0) and deepctl's own inventory, and
the URL of a hidden download taken from them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from deepctl.ansible.explain import HIDDEN_MESSAGE, Explanation
from deepctl.clusterspec.loader import load_spec_text
from deepctl.engine.playbooks import with_download_urls
from deepctl.engine.progress import HostFailure
from deepctl.kubespray.downloads import cached_architecture, download_url, evaluate_downloads
from deepctl.kubevars.render import render_inventory, write_inventory
from tests.specs import MINIMAL_SPEC

ROOT = Path(__file__).resolve().parents[2]
TREE = Path(os.environ.get("DEEPCTL_TEST_KUBESPRAY")
            or ROOT.parent / "shared" / "kubespray-v2.31.0")
needs_tree = pytest.mark.skipif(
    not (TREE / "roles" / "kubespray_defaults").is_dir(),
    reason=f"the real Kubespray v2.31.0 tree is not at {TREE}: set DEEPCTL_TEST_KUBESPRAY "
    "(`deepctl kubespray fetch`, or `git submodule update --init vendor/kubespray`)")
MIRROR = "http://127.0.0.1:9/files"
RUNC_FROM_MIRROR = (
    "  kubesprayVars:\n"
    f"    files_repo: {MIRROR}\n"
    '    runc_download_url: "{{ files_repo }}/github.com/opencontainers/runc/releases/'
    'download/v{{ runc_version }}/runc.{{ image_arch }}"\n')


def inventory(tmp_path: Path, extra: str = "") -> Path:
    cluster = load_spec_text(MINIMAL_SPEC + extra, tmp_path / "c.yaml").cluster
    directory = tmp_path / "inventory"
    write_inventory(directory, render_inventory(cluster, "c.yaml"))
    return directory


@needs_tree
def test_the_url_comes_from_the_spec_and_kubespray_defaults(tmp_path: Path) -> None:
    directory = inventory(tmp_path, RUNC_FROM_MIRROR)
    # Kubespray's own default, for the host's architecture (from its cached facts)
    arm = {i.file: i.url for i in evaluate_downloads(TREE, directory, ["cp1"], {"cp1": "aarch64"})["cp1"]
           if i.file}
    assert arm["kubeadm-1.35.4-arm64"] == "https://dl.k8s.io/release/v1.35.4/bin/linux/arm64/kubeadm"
    assert arm["runc-1.4.2.arm64"] == (
        f"{MIRROR}/github.com/opencontainers/runc/releases/download/v1.4.2/runc.arm64")
    assert download_url(TREE, directory, "cp1", "runc-1.4.2.amd64") == (
        f"{MIRROR}/github.com/opencontainers/runc/releases/download/v1.4.2/runc.amd64")
    assert download_url(TREE, directory, "cp1", "no-such-file") is None
    assert download_url(TREE, directory, "nohost", "runc-1.4.2.amd64") is None


def test_hidden_failures_get_their_url_once_per_file(tmp_path: Path) -> None:
    def failure(host: str, file: str | None) -> HostFailure:
        return HostFailure.of(host, Explanation("Download_file | Download item",
                                                HIDDEN_MESSAGE, hidden=True, file=file))

    asked: list[str] = []

    def resolve(f: HostFailure) -> str | None:
        asked.append(f.host)
        return "http://127.0.0.1:9/x" if f.explanation and f.explanation.file == "x" else None

    shown = HostFailure("cp1", "t", "boom")
    out = with_download_urls([failure("cp1", "x"), failure("wk1", "x"), failure("wk2", "y"),
                              failure("wk3", None), shown], resolve)
    assert asked == ["cp1", "wk2"]
    assert [f.explanation.url if f.explanation else None for f in out] == [
        "http://127.0.0.1:9/x", "http://127.0.0.1:9/x", None, None, None]
    assert cached_architecture(tmp_path, "cp1") is None
    (tmp_path / "cp1").write_text('{"ansible_architecture": "aarch64"}')
    assert cached_architecture(tmp_path, "cp1") == "aarch64"
    assert cached_architecture(None, "cp1") is None


@needs_tree
def test_the_url_of_the_real_runs_hidden_download(tmp_path: Path) -> None:
    """The file named by the real run's events (tests/fixtures/real-kubespray-events/
    download-runc-mirror-refused) and that run's mirror settings give the URL it tried."""
    mirror = "http://127.0.0.1:39707/mirror"
    directory = inventory(tmp_path, f"  kubesprayVars:\n    github_url: {mirror}/github\n")
    assert download_url(TREE, directory, "cp1", "runc-1.4.2.amd64", architecture="x86_64") == (
        f"{mirror}/github/opencontainers/runc/releases/download/v1.4.2/runc.amd64")
