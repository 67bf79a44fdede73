"""The pure parts of `artifacts list`: Kubespray's evaluated downloads -> the artifact list."""

from __future__ import annotations

import json
from typing import Any

import yaml

from deepctl.addons.chart_images import addon_images, driver_os_tag
from deepctl.artifacts.kubespray_items import merge, reduced_hosts, representatives
from deepctl.artifacts.listing import addon_charts, build_list, upstream
from deepctl.artifacts.model import ChartArtifact, FileArtifact
from deepctl.clusterspec.models import Cluster
from deepctl.kubespray.downloads import Download, checksum_hex, parse_downloads, playbook_text
from deepctl.kubevars.host_classes import host_groups
from deepctl.kubevars.render import render_hosts

SHA = "ab" * 32


def cluster(addons: dict[str, Any] | None = None, **spec: Any) -> Cluster:
    data: dict[str, Any] = {
        "apiVersion": "deepctl/v1alpha1", "kind": "Cluster", "metadata": {"name": "lab"},
        "spec": {"hosts": [
            {"name": "cp1", "address": "192.0.2.1", "roles": ["control-plane", "etcd"]},
            {"name": "gpu1", "address": "192.0.2.2", "roles": ["worker"], "gpu": True},
            {"name": "gpu2", "address": "192.0.2.3", "roles": ["worker"], "gpu": True},
            {"name": "arm1", "address": "192.0.2.4", "roles": ["worker"]},
        ], "addons": addons or {"gpu": {"enabled": False}, "monitoring": {"enabled": False}}, **spec},
    }
    return Cluster.model_validate(data)


def test_one_host_per_class_and_architecture_is_evaluated() -> None:
    c = cluster()
    assert representatives(render_hosts(c), {}) == ["cp1", "gpu1"]
    assert representatives(render_hosts(c), {"arm1": "aarch64"}) == ["cp1", "gpu1", "arm1"]
    # a host's own kubesprayVars make it a class of its own; addresses do not
    own = c.spec.hosts[2].model_copy(update={"kubespray_vars": {"containerd_version": "2.1.0"}})
    c2 = c.model_copy(update={"spec": c.spec.model_copy(
        update={"hosts": [*c.spec.hosts[:2], own, c.spec.hosts[3]]})})
    assert representatives(render_hosts(c2), {}) == ["cp1", "gpu1", "gpu2"]


def test_at_1000_workers_the_evaluated_inventory_holds_the_representatives_only() -> None:
    hosts = [{"name": f"cp{i}", "address": f"10.0.0.{i}", "roles": ["control-plane", "etcd"]}
             for i in (1, 2, 3)]
    hosts += [{"name": f"gpu{i:04d}", "address": f"10.1.{i // 250}.{i % 250 + 1}",
               "roles": ["worker"], "gpu": True} for i in range(1, 1001)]
    c = Cluster.model_validate({"apiVersion": "deepctl/v1alpha1", "kind": "Cluster",
                                "metadata": {"name": "big"}, "spec": {"hosts": hosts}})
    document = render_hosts(c)
    chosen = representatives(document, {"gpu0500": "aarch64"})
    # every control plane (download_delegate is the first of them), one worker per arch
    assert chosen == ["cp1", "cp2", "cp3", "gpu0001", "gpu0500"]
    reduced = reduced_hosts(document, set(chosen))
    assert list(reduced["all"]["hosts"]) == chosen
    groups = host_groups(reduced)
    assert sorted(h for h, g in groups.items() if "kube_node" in g) == ["gpu0001", "gpu0500"]
    assert list(reduced["all"]["children"]["kube_control_plane"]["hosts"]) == ["cp1", "cp2", "cp3"]
    assert reduced["all"]["vars"] == document["all"]["vars"]


def test_checksums_are_hex() -> None:
    assert checksum_hex(f"sha256:{SHA}") == SHA
    assert checksum_hex(SHA) == SHA
    assert [checksum_hex(v) for v in (None, "", "None", "0")] == [None, None, None, None]


def test_parse_json_or_a_list_and_merge_in_first_seen_order() -> None:
    items = [{"name": "kubeadm", "container": False, "url": "https://dl.k8s.io/k", "checksum":
              f"sha256:{SHA}", "repo": None, "tag": None, "dest": "kubeadm-1.35.4-amd64"},
             {"name": "pod_infra", "container": True, "url": None, "checksum": "None",
              "repo": "registry.k8s.io/pause", "tag": "3.10.1"}]
    parsed = parse_downloads(json.dumps(items))
    assert parsed == parse_downloads(items)
    assert parsed[0] == Download("kubeadm", False, "https://dl.k8s.io/k", SHA, None, None,
                                 file="kubeadm-1.35.4-amd64")
    assert parsed[1].image == "registry.k8s.io/pause:3.10.1"
    assert parsed[1].file is None  # an image writes no file of its own
    arm = Download("kubeadm", False, "https://dl.k8s.io/arm64/k", SHA, None, None)
    assert merge([parsed, [parsed[1], arm]]) == [*parsed, arm]


def test_the_list_from_downloads_and_addons() -> None:
    c = cluster({"gpu": {"enabled": True}, "monitoring": {"enabled": False}})
    downloads = [
        Download("kubeadm", False, "https://dl.k8s.io/release/v1.35.4/bin/linux/amd64/kubeadm", SHA,
                 None, None),
        Download("nginx", True, None, None, "docker.io/library/nginx", "1.28.2-alpine"),
        Download("kubeadm_kube-proxy", True, None, None, "registry.k8s.io/kube-proxy", "v1.35.4"),
    ]
    listed = build_list(c, downloads)
    assert listed.files == (FileArtifact(
        "kubeadm", "https://dl.k8s.io/release/v1.35.4/bin/linux/amd64/kubeadm", SHA,
        "dl.k8s.io/release/v1.35.4/bin/linux/amd64/kubeadm"),)
    refs = [i.ref for i in listed.images]
    assert refs[:2] == ["docker.io/library/nginx:1.28.2-alpine", "registry.k8s.io/kube-proxy:v1.35.4"]
    assert refs[2:] == [*addon_images(c), "nvcr.io/nvidia/cuda:12.8.1-base-ubuntu24.04",  # + verify's
                        "nvcr.io/nvidia/cloud-native/dcgm:4.5.2-1-ubuntu22.04",  # smoke, DCGM
                        "ghcr.io/coreweave/nccl-tests:12.9.1-devel-ubuntu24.04-nccl2.29.2-1-d73ec07"]
    assert "nvcr.io/nvidia/gpu-operator:v26.3.3" in refs
    assert not any("/driver:" in r for r in refs)  # driver preinstalled: no driver image
    assert listed.charts == (ChartArtifact("gpu-operator", "v26.3.3", "https://helm.ngc.nvidia.com/nvidia"),)
    assert listed.to_json()["images"][0] == {"ref": "docker.io/library/nginx:1.28.2-alpine"}


def test_the_driver_image_is_tagged_per_gpu_host_os() -> None:
    c = cluster({"gpu": {"enabled": True, "driver": {"install": True, "version": "570.172.08"}},
                 "monitoring": {"enabled": False}})
    drivers = [r for r in addon_images(c, ["ubuntu24.04", "rhel9.6", "ubuntu24.04"]) if "/driver:" in r]
    assert drivers == ["nvcr.io/nvidia/driver:570.172.08-rhel9.6",
                       "nvcr.io/nvidia/driver:570.172.08-ubuntu24.04"]
    assert driver_os_tag({"ID": "ubuntu", "VERSION_ID": "22.04"}) == "ubuntu22.04"
    pinned = cluster({"gpu": {"enabled": True, "driver": {"install": True}},
                      "monitoring": {"enabled": False}})
    assert [r for r in addon_images(pinned) if "/driver:" in r] == ["nvcr.io/nvidia/driver:580.126.20"]


def test_every_enabled_chart_once_with_its_upstream_repository() -> None:
    c = cluster({"gpu": {"enabled": False}, "monitoring": {"enabled": True},
                 "storage": {"ceph": {"enabled": True}}, "slurm": {"enabled": True}})
    assert addon_charts(c) == (
        ChartArtifact("rook-ceph", "v1.20.6", "https://charts.rook.io/release"),
        ChartArtifact("rook-ceph-cluster", "v1.20.6", "https://charts.rook.io/release"),
        ChartArtifact("kube-prometheus-stack", "87.5.1", "https://prometheus-community.github.io/helm-charts"),
        ChartArtifact("slurm-operator-crds", "1.2.1", "oci://ghcr.io/slinkyproject/charts"),
        ChartArtifact("slurm-operator", "1.2.1", "oci://ghcr.io/slinkyproject/charts"),
        ChartArtifact("slurm", "1.2.1", "oci://ghcr.io/slinkyproject/charts"),
    )


def test_the_list_is_always_of_upstream_locations() -> None:
    c = cluster(offline={"files": "http://127.0.0.1/f", "registry": "127.0.0.1:5000"})
    assert c.spec.offline is not None
    assert upstream(c).spec.offline is None
    assert c.spec.offline is not None  # the caller's spec is unchanged


def test_the_playbook_applies_the_download_roles_condition() -> None:
    text = playbook_text()
    play = yaml.safe_load(text)[0]
    assert play["roles"] == [{"role": "kubespray_defaults", "when": False}]
    msg = play["tasks"][0]["ansible.builtin.debug"]["msg"]
    for part in ("download_defaults | combine(value)", "download_container",
                 "group_names | intersect(d.groups)", "download_run_once",
                 '"kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy"'):
        assert part in msg, part
