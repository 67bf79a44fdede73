"""spec.offline -> Kubespray's offline variables (group_vars/all/deepctl-offline.yml)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from deepctl.clusterspec.models import Cluster
from deepctl.kubespray.release import load_release
from deepctl.kubevars.offline import (
    OFFLINE_VARS_FILE,
    mirror_image,
    mirror_path,
    offline_data,
    qualify_image,
    render_offline_vars,
)
from deepctl.kubevars.render import render_inventory, write_inventory
from tests.specs import MINIMAL_SPEC
from tests.tls_support import make_ca

ROOT = Path(__file__).resolve().parents[2]
KUBESPRAY = ROOT.parent / "shared" / "kubespray-v2.31.0"
SAMPLE_OFFLINE = KUBESPRAY / "inventory" / "sample" / "group_vars" / "all" / "offline.yml"
needs_kubespray = pytest.mark.skipif(
    not SAMPLE_OFFLINE.is_file(),
    reason=f"the Kubespray tree is not at {KUBESPRAY} (present in CI; or `deepctl kubespray fetch`)",
)


def cluster(runtime: str = "containerd", **offline: Any) -> Cluster:
    data = yaml.safe_load(MINIMAL_SPEC)
    data["spec"]["kubernetes"] = {"containerRuntime": runtime}
    data["spec"]["offline"] = {"files": "http://127.0.0.1:8080/files", "registry": "127.0.0.1:5000",
                               **offline}
    return Cluster.model_validate(data)


def documented(suffix: str) -> set[str]:
    names = re.findall(r"^#\s*([a-z0-9_]+):", SAMPLE_OFFLINE.read_text(), re.MULTILINE)
    return {n for n in names if n.endswith(suffix)}


@needs_kubespray
def test_every_download_url_and_image_repo_the_sample_documents_is_set() -> None:
    out = render_offline_vars(cluster())
    assert {n for n in out if n.endswith("_download_url")} == documented("_download_url")
    assert {n for n in out if n.endswith("_image_repo")} == documented("_image_repo")
    assert {"github_url", "dl_k8s_io_url", "storage_googleapis_url", "get_helm_url"} <= set(out)


def test_urls_point_at_files_repo_and_images_at_registry_host() -> None:
    out = render_offline_vars(cluster())
    assert out["files_repo"] == "http://127.0.0.1:8080/files"
    assert out["registry_host"] == "127.0.0.1:5000"
    for name, value in out.items():
        if name.endswith("_download_url"):
            assert value.startswith("{{ files_repo }}/"), name
        if name.endswith("_image_repo"):
            assert value == "{{ registry_host }}", name
    assert out["kubeadm_download_url"] == (
        "{{ files_repo }}/dl.k8s.io/release/v{{ kube_version }}/bin/linux/{{ image_arch }}/kubeadm")
    assert out["github_url"] == "{{ files_repo }}/github.com"
    # Kubespray's own default keeps the static containerd archive, which the sample drops.
    assert "{{ 'static-' if containerd_static_binary }}" in out["containerd_download_url"]


def test_every_name_written_is_a_kubespray_variable() -> None:
    known = load_release().variables
    for runtime in ("containerd", "crio"):
        assert set(render_offline_vars(cluster(runtime))) <= known


def test_containerd_reaches_a_plain_http_registry() -> None:
    out = render_offline_vars(cluster(insecureRegistry=True))
    assert out["containerd_registries_mirrors"] == [{
        "prefix": "127.0.0.1:5000", "server": "http://127.0.0.1:5000",
        "mirrors": [{"host": "http://127.0.0.1:5000", "capabilities": ["pull", "resolve"],
                     "skip_verify": True}],
    }]


def test_crio_reaches_the_registry() -> None:
    out = render_offline_vars(cluster("crio", insecureRegistry=True))
    assert out["crio_registries"] == [{"prefix": "127.0.0.1:5000", "location": "127.0.0.1:5000",
                                       "insecure": True, "unqualified": False}]
    assert "containerd_registries_mirrors" not in out


def test_a_ca_file_is_trusted_by_containerd(tmp_path: Path) -> None:
    ca = make_ca(tmp_path).cert
    out = render_offline_vars(cluster(caFile=str(ca)))
    assert out["containerd_registries_mirrors"][0]["mirrors"][0]["ca"] == ["/etc/deepctl/mirror-ca.pem"]


def test_without_offline_nothing_is_rendered(tmp_path: Path) -> None:
    online = Cluster.model_validate(yaml.safe_load(MINIMAL_SPEC))
    assert render_offline_vars(online) == {}
    files = render_inventory(cluster(), "spec.yaml")
    text = files[OFFLINE_VARS_FILE]
    assert "files_repo: !unsafe 'http://127.0.0.1:8080/files'" in text
    assert "registry_host: !unsafe '127.0.0.1:5000'" in text
    write_inventory(tmp_path, files)
    assert (tmp_path / OFFLINE_VARS_FILE).is_file()
    write_inventory(tmp_path, render_inventory(online, "spec.yaml"))
    assert not (tmp_path / OFFLINE_VARS_FILE).exists()


@pytest.mark.parametrize(
    ("ref", "qualified", "mirrored"),
    [
        ("nginx:1.28", "docker.io/library/nginx:1.28", "m:5000/library/nginx:1.28"),
        ("rook/ceph:v1", "docker.io/rook/ceph:v1", "m:5000/rook/ceph:v1"),
        ("quay.io/calico/node:v3", "quay.io/calico/node:v3", "m:5000/calico/node:v3"),
        ("localhost:5000/x:1", "localhost:5000/x:1", "m:5000/x:1"),
        ("nvcr.io/nvidia", "nvcr.io/nvidia", "m:5000/nvidia"),
    ],
)
def test_image_mapping(ref: str, qualified: str, mirrored: str) -> None:
    assert qualify_image(ref) == qualified
    assert mirror_image(ref, "m:5000") == mirrored


def test_mirror_path_is_the_files_repo_layout() -> None:
    assert mirror_path("https://get.helm.sh/helm-v3.18.4-linux-amd64.tar.gz") == (
        "get.helm.sh/helm-v3.18.4-linux-amd64.tar.gz")


@needs_kubespray
def test_package_data_is_current() -> None:
    import importlib.util

    path = ROOT / "scripts" / "gen_offline_data.py"
    spec = importlib.util.spec_from_file_location("gen_offline_data", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    names = module.documented(KUBESPRAY)
    assert set(offline_data()["download_urls"]) == {n for n in names if n.endswith("_download_url")}
