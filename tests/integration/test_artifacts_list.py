"""`artifacts list` against Kubespray itself.

For several specs, Kubespray's own ``contrib/offline/generate_list.sh`` (which runs
``generate_list.yml``) is run on the inventory deepctl renders, in a copy of the real
Kubespray v2.31.0 tree; its lists (every file and image Kubespray knows, whatever the
inventory uses) are filtered to the components each spec turns on, named here by hand as
the oracle. deepctl's list must hold exactly those Kubespray items: none missing, none extra.
Then, with ``spec.offline`` set, Kubespray's downloads evaluated on the offline inventory
must point every file and image at the mirror, at the path the list gives.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from deepctl.addons.chart_images import addon_images
from deepctl.artifacts.kubespray_items import evaluate_downloads
from deepctl.artifacts.listing import deepctl_images, list_artifacts, upstream
from deepctl.clusterspec.loader import load_spec
from deepctl.clusterspec.models import Cluster
from deepctl.kubespray.source import KubesprayTree
from deepctl.kubevars.offline import mirror_image, qualify_image
from deepctl.kubevars.render import render_inventory, write_inventory

ROOT = Path(__file__).resolve().parents[2]
KUBESPRAY = Path(os.environ.get("DEEPCTL_TEST_KUBESPRAY") or ROOT.parent / "shared" / "kubespray-v2.31.0")
DOWNLOAD_YML = "roles/kubespray_defaults/defaults/main/download.yml"
CHECKSUMS_YML = "roles/kubespray_defaults/vars/main/checksums.yml"
KUBE_IMAGES = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy")

pytestmark = pytest.mark.skipif(
    not (KUBESPRAY / DOWNLOAD_YML).is_file(),
    reason=f"no Kubespray v2.31.0 tree at {KUBESPRAY} (set DEEPCTL_TEST_KUBESPRAY, run "
    "`deepctl kubespray fetch`, or `git submodule update --init vendor/kubespray`)",
)

BASE_FILES = {"cni", "kubeadm", "kubelet", "kubectl", "crictl", "etcd", "helm"}
BASE_IMAGES = {"pod_infra", "coredns", "nodelocaldns", "dnsautoscaler"}
CALICO_CONTAINERD = (BASE_FILES | {"runc", "containerd", "nerdctl", "calicoctl", "calico_crds"},
                     BASE_IMAGES | {"calico_node", "calico_cni", "calico_policy"})

EVERY_ADDON = """\
apiVersion: deepctl/v1alpha1
kind: Cluster
metadata: {name: everything}
spec:
  hosts:
    - {name: cp1, address: 192.0.2.11, roles: [control-plane, etcd, worker], cephDevices: [/dev/sdb]}
    - {name: cp2, address: 192.0.2.12, roles: [control-plane, etcd], cephDevices: [/dev/sdb]}
    - {name: cp3, address: 192.0.2.13, roles: [control-plane, etcd], cephDevices: [/dev/sdb]}
    - {name: gpu1, address: 192.0.2.31, roles: [worker], gpu: true}
  addons:
    gpu: {enabled: true, driver: {install: true}}
    monitoring: {enabled: true}
    logging: {enabled: true}
    storage: {nfs: {enabled: true, server: cp1}, ceph: {enabled: true}}
    slurm: {enabled: true}
    jupyterhub: {enabled: true}
"""
CILIUM_CRIO = """\
apiVersion: deepctl/v1alpha1
kind: Cluster
metadata: {name: cilium-crio}
spec:
  kubernetes: {networkPlugin: cilium, containerRuntime: crio}
  hosts:
    - {name: cp1, address: 192.0.2.11, roles: [control-plane, etcd]}
    - {name: cp2, address: 192.0.2.12, roles: [control-plane, etcd]}
    - {name: cp3, address: 192.0.2.13, roles: [control-plane, etcd]}
    - {name: gpu1, address: 192.0.2.31, roles: [worker], gpu: true}
"""

# spec -> (Kubespray download items with files, with images) it turns on: the oracle.
CASES: dict[str, tuple[str, tuple[set[str], set[str]]]] = {
    # one control plane: Kubespray's own default (loadbalancer_apiserver_localhost: true, which
    # deepctl no longer overrides) runs nginx-proxy on the workers
    "gpu-example": ("examples/gpu-cluster.yaml", (CALICO_CONTAINERD[0],
                                                  CALICO_CONTAINERD[1] | {"nginx"})),
    "cilium-crio": (CILIUM_CRIO, (BASE_FILES | {"crio", "skopeo", "ciliumcli"},
                                  BASE_IMAGES | {"cilium", "cilium_operator", "nginx"})),
    "every-addon": (EVERY_ADDON, (CALICO_CONTAINERD[0], CALICO_CONTAINERD[1] | {"nginx"})),
}


def load_case(name: str, tmp: Path) -> Cluster:
    source, _ = CASES[name]
    if source.endswith(".yaml"):
        return load_spec(ROOT / source).cluster
    path = tmp / f"{name}.yaml"
    path.write_text(source)
    return load_spec(path).cluster


@pytest.fixture(scope="module")
def kubespray_copy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubesprayTree]:
    """A private copy of the real tree: generate_list.sh writes into it."""
    target = tmp_path_factory.mktemp("kubespray") / "kubespray"
    shutil.copytree(KUBESPRAY, target, symlinks=True, ignore=shutil.ignore_patterns(".git"))
    yield KubesprayTree(target, "spec", "v2.31.0")


def download_names(tree: Path) -> tuple[list[str], list[str]]:
    """The download item behind each line of generate_list's files and images lists."""
    text = (tree / DOWNLOAD_YML).read_text()
    url_vars = [m.group(1) for line in text.splitlines() if "download_url:" in line
                for m in [re.match(r"^([a-z0-9_]+_download_url):", line)] if m]
    downloads: dict[str, Any] = yaml.safe_load(text)["downloads"]
    by_url_var = {re.sub(r"[{} ]", "", str(d.get("url", ""))): n for n, d in downloads.items()}
    files = [by_url_var.get(var, f"?{var}") for var in url_vars]
    images = [n for n, d in downloads.items() if "repo" in d and "tag" in d]
    return files, images + [f"kubeadm_{i}" for i in KUBE_IMAGES]


def kubespray_lists(tree: KubesprayTree, cluster: Cluster, work: Path) -> tuple[list[str], list[str]]:
    """files.list and images.list of Kubespray's generate_list.sh on deepctl's inventory."""
    inventory = work / "inventory"
    write_inventory(inventory, render_inventory(cluster, "test"))
    extra = [arg for f in sorted(inventory.glob("group_vars/*/*.yml")) for arg in ("-e", f"@{f}")]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
           "ANSIBLE_PYTHON_INTERPRETER": sys.executable, "ANSIBLE_LOCAL_TEMP": str(work / "tmp"),
           "ANSIBLE_HOME": str(work / "ansible-home"), "ANSIBLE_NOCOLOR": "1"}
    result = subprocess.run(
        ["bash", "contrib/offline/generate_list.sh", "-i", str(inventory / "hosts.yaml"), *extra],
        cwd=tree.path, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    temp = tree.path / "contrib" / "offline" / "temp"
    return ((temp / "files.list").read_text().splitlines(),
            (temp / "images.list").read_text().splitlines())


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_list_is_kubesprays_own_filtered_to_the_spec(
    case: str, kubespray_copy: KubesprayTree, tmp_path: Path
) -> None:
    cluster = load_case(case, tmp_path)
    wanted_files, wanted_images = CASES[case][1]
    files_list, images_list = kubespray_lists(kubespray_copy, upstream(cluster), tmp_path)
    file_names, image_names = download_names(kubespray_copy.path)
    assert len(file_names) == len(files_list) and len(image_names) == len(images_list)
    expected_urls = {url for name, url in zip(file_names, files_list, strict=True) if name in wanted_files}
    expected_images = {qualify_image(ref) for name, ref in zip(image_names, images_list, strict=True)
                       if name in wanted_images or name.startswith("kubeadm_")}

    listed = list_artifacts(cluster, kubespray_copy)

    assert {f.url for f in listed.files} == expected_urls
    refs = {i.ref for i in listed.images}
    assert expected_images - refs == set(), "missing Kubespray images"
    deepctl_own = set(addon_images(cluster)) | set(deepctl_images(cluster))
    assert refs - deepctl_own - expected_images == set(), "extra Kubespray images"
    assert len(listed.images) == len({i.ref for i in listed.images})
    checksums = (kubespray_copy.path / CHECKSUMS_YML).read_text()
    for item in listed.files:
        assert item.sha256 and f"sha256:{item.sha256}" in checksums, item
        assert item.path == item.url.split("://", 1)[1]
    charts = {(c.name, c.version) for c in listed.charts}
    assert ("gpu-operator", "v26.3.3") in charts
    json_doc = listed.to_json()
    assert set(json_doc) == {"files", "images", "charts"}


def test_offline_inventory_points_every_download_at_the_mirror(
    kubespray_copy: KubesprayTree, tmp_path: Path
) -> None:
    cluster = load_case("every-addon", tmp_path)
    files, registry = "http://127.0.0.1:8080/files", "127.0.0.1:5000"
    data = cluster.model_dump(by_alias=True, mode="json")
    data["spec"]["offline"] = {"files": files, "registry": registry, "charts": "http://127.0.0.1:8080/charts"}
    offline = Cluster.model_validate(data)

    listed = list_artifacts(offline, kubespray_copy)
    evaluated = evaluate_downloads(offline, kubespray_copy)

    assert {d.url for d in evaluated if d.url} == {f"{files}/{f.path}" for f in listed.files}
    kubespray_images = {d.image for d in evaluated if d.container}
    mirrored = {mirror_image(i.ref, registry) for i in listed.images}
    assert kubespray_images <= mirrored
    own = [*addon_images(cluster), *deepctl_images(cluster)]
    assert mirrored - kubespray_images <= {mirror_image(r, registry) for r in own}


def test_each_architecture_gets_its_own_files(kubespray_copy: KubesprayTree, tmp_path: Path) -> None:
    cluster = load_case("gpu-example", tmp_path)
    listed = list_artifacts(cluster, kubespray_copy, architectures={"gpu2": "aarch64"})
    kubelets = sorted(f.url for f in listed.files if f.name == "kubelet")
    version = cluster.spec.kubernetes.version
    assert kubelets == [f"https://dl.k8s.io/release/v{version}/bin/linux/{arch}/kubelet"
                        for arch in ("amd64", "arm64")]
    checksums = yaml.safe_load((kubespray_copy.path / CHECKSUMS_YML).read_text())["kubelet_checksums"]
    by_url = {f.url: f.sha256 for f in listed.files if f.name == "kubelet"}
    for arch in ("amd64", "arm64"):
        url = f"https://dl.k8s.io/release/v{version}/bin/linux/{arch}/kubelet"
        assert f"sha256:{by_url[url]}" == checksums[arch][version]
    # kubectl is only for control planes, all amd64 here
    assert [f.url.split("/")[-2] for f in listed.files if f.name == "kubectl"] == ["amd64"]
