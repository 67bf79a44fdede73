"""`deepctl status`'s pure parts, by equality on small inputs: assess(), node rows, workloads,
endpoints, facts. API objects come from tests/fixtures/k8s_objects (shaped like real ones)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from deepctl.clusterspec.models import Cluster
from deepctl.preflight.model import Gpu, HostFacts
from deepctl.preflight.saved import expected_gpus, gpu_count
from deepctl.state import StateDir
from deepctl.state.runs import RunSummary
from deepctl.status.assess import assess, endpoint, workload
from deepctl.status.model import (
    AddonStatus,
    ClusterData,
    ClusterPolicyStatus,
    Endpoint,
    NodeGpus,
    NodeStatus,
    Platform,
    Problem,
    StatusReport,
    Totals,
    Workload,
)
from deepctl.status.nodes import gpu_requests, usable_gpus
from deepctl.status.platform import ENDPOINTS, enabled_addons, namespaces_to_read
from tests.fixtures import k8s_objects as k

RUN = RunSummary("20261127T100000Z-deploy-ab12", "deploy", "2026-11-27T10:00:00Z", 812.5,
                 "failed", "gpu")


def small_cluster(**addons: Any) -> Cluster:
    """cp1 + gpu1; only the GPU addon unless others are given."""
    return Cluster.model_validate({
        "metadata": {"name": "lab"},
        "spec": {"hosts": [
            {"name": "cp1", "address": "127.0.1.1", "roles": ["control-plane", "etcd"]},
            {"name": "gpu1", "address": "127.0.1.2", "roles": ["worker"], "gpu": True},
        ], "addons": {"monitoring": {"enabled": False}, **addons}},
    })


def gpu_operator_data(**changes: Any) -> ClusterData:
    fields: dict[str, Any] = {
        "endpoint": "https://127.0.1.1:6443",
        "nodes": [k.node("cp1", "10.0.0.1", control_plane=True), k.node("gpu1", "10.0.0.2", gpus=8)],
        "pods": [k.pod("train", "default", "gpu1", gpus=3),
                 k.pod("waiting", "default", "gpu1", gpus=4, phase="Pending")],
        "workloads": {"gpu-operator": [k.daemonset("nvidia-device-plugin-daemonset", "gpu-operator", 1)]},
        "cluster_policies": [k.cluster_policy()],
        "storage_classes": [k.storage_class("local-path")],
    }
    return ClusterData(**(fields | changes))


def test_not_deployed_reports_history_and_no_api() -> None:
    assert assess(small_cluster(), {}, None, [RUN]) == StatusReport(
        cluster="lab", state="not-deployed", health="unknown",
        totals=Totals(gpus_expected_unknown=["gpu1"]), history=[RUN],
    )


def test_healthy_small_cluster_whole_report() -> None:
    report = assess(small_cluster(), {"gpu1": 8}, gpu_operator_data(), [RUN])
    assert report == StatusReport(
        cluster="lab", state="deployed", health="healthy", endpoint="https://127.0.1.1:6443",
        nodes=[
            NodeStatus("cp1", True, True, True, "Ready", ["control-plane"], k.KUBELET, "10.0.0.1",
                       ["node-role.kubernetes.io/control-plane:NoSchedule"]),
            NodeStatus("gpu1", True, True, True, "Ready", [], k.KUBELET, "10.0.0.2", [], True,
                       NodeGpus(8, 8, 3, 8, k.H100, 8, "all-disabled", "single")),
        ],
        platform=Platform(
            addons=[AddonStatus("gpu", "gpu-operator",
                                [Workload("DaemonSet", "nvidia-device-plugin-daemonset", 1, 1)], True)],
            cluster_policy=ClusterPolicyStatus("cluster-policy", "ready"),
            default_storage_class=None, storage_classes=["local-path"],
        ),
        totals=Totals(2, 2, 8, 8, 8, [], 3),
        history=[RUN],
    )


def test_not_ready_node_and_missing_gpus_degrade() -> None:
    nodes = [k.node("cp1", "10.0.0.1", control_plane=True, ready=False),
             k.node("gpu1", "10.0.0.2", gpus=8, allocatable=6)]
    report = assess(small_cluster(), {"gpu1": 8}, gpu_operator_data(nodes=nodes), [])
    assert report.health == "degraded"
    assert report.problems == [
        Problem("node cp1", "NotReady"),
        Problem("node gpu1", "6 of 8 GPUs allocatable (preflight saw 8)"),
    ]
    assert report.nodes[0].status == "NotReady"
    assert report.totals == Totals(1, 2, 8, 6, 8, [], 3)


def test_spec_cluster_mismatch_missing_is_error_extra_is_warning() -> None:
    nodes = [k.node("cp1", "10.0.0.1", control_plane=True), k.node("stray", "10.0.0.9")]
    report = assess(small_cluster(gpu={"enabled": False}), {}, gpu_operator_data(nodes=nodes), [])
    assert [(n.name, n.in_spec, n.in_cluster, n.status) for n in report.nodes] == [
        ("cp1", True, True, "Ready"), ("gpu1", True, False, "missing"), ("stray", False, True, "Ready")]
    assert report.problems == [
        Problem("node gpu1", "in the spec but not in the cluster"),
        Problem("node stray", "in the cluster but not in the spec", "warning"),
    ]
    assert report.health == "degraded"
    assert report.errors == [Problem("node gpu1", "in the spec but not in the cluster")]


def test_gpu_host_without_facts_needs_some_gpus() -> None:
    nodes = [k.node("cp1", "10.0.0.1"), k.node("gpu1", "10.0.0.2")]
    report = assess(small_cluster(), {}, gpu_operator_data(nodes=nodes), [])
    assert report.problems == [Problem("node gpu1", "no GPUs allocatable (the spec says gpu: true)")]
    assert report.totals.gpus_expected_unknown == ["gpu1"]


def test_platform_problems_workloads_policy_storage() -> None:
    data = gpu_operator_data(
        workloads={"gpu-operator": [k.daemonset("nvidia-dcgm-exporter", "gpu-operator", 2, 1)]},
        cluster_policies=[k.cluster_policy("notReady")],
    )
    cluster = small_cluster(storage={"nfs": {"enabled": True, "server": "cp1"}})
    report = assess(cluster, {"gpu1": 8}, data, [])
    assert report.problems == [
        Problem("addon storage", "no workloads in namespace nfs-provisioner"),
        Problem("DaemonSet gpu-operator/nvidia-dcgm-exporter", "1/2 ready"),
        Problem("ClusterPolicy cluster-policy", "state notReady"),
        Problem("storage", "no default StorageClass (storage.nfs.defaultClass)"),
    ]
    assert [(a.name, a.ready) for a in report.platform.addons] == [("storage", False), ("gpu", False)]


def test_cluster_policy_crd_absent() -> None:
    report = assess(small_cluster(), {"gpu1": 8}, gpu_operator_data(cluster_policies=None), [])
    assert report.problems == [Problem("GPU Operator", "no ClusterPolicy (nvidia.com/v1) found")]


def test_workload_desired_and_ready() -> None:
    assert workload(k.daemonset("ds", "ns", 3, 2)) == Workload("DaemonSet", "ds", 3, 2)
    assert workload(k.deployment("d", "ns", 2, 0)) == Workload("Deployment", "d", 2, 0)
    assert workload(k.statefulset("s", "ns", 1)) == Workload("StatefulSet", "s", 1, 1)
    scaled_down = k.deployment("d", "ns", 0)
    assert workload(scaled_down).is_ready


def test_endpoints_nodeport_loadbalancer_clusterip_absent() -> None:
    grafana, hub = ENDPOINTS
    svc = k.service("kps-grafana", "monitoring", 30080, {"app.kubernetes.io/name": "grafana"})
    assert endpoint(grafana, "monitoring", [svc], "10.1.1.1") == Endpoint(
        "Grafana", "monitoring", "kps-grafana", "NodePort", "http://10.1.1.1:30080")
    lb = k.service("proxy-public", "jupyterhub", 31000, port=443)
    lb["spec"]["type"] = "LoadBalancer"
    lb["status"]["loadBalancer"] = {"ingress": [{"ip": "192.0.2.10"}]}
    assert endpoint(hub, "jupyterhub", [lb], "10.1.1.1").url == "https://192.0.2.10:443"
    internal = k.service("proxy-public", "jupyterhub", None)
    assert endpoint(hub, "jupyterhub", [internal], "10.1.1.1") == Endpoint(
        "JupyterHub", "jupyterhub", "proxy-public", "ClusterIP", None,
        "kubectl -n jupyterhub port-forward svc/proxy-public 8000:80")
    assert endpoint(hub, "jupyterhub", [svc], "10.1.1.1") == Endpoint(
        "JupyterHub", "jupyterhub", None, None, None)


def test_addon_places_come_from_the_registry() -> None:
    cluster = small_cluster(storage={"nfs": {"enabled": True, "server": "cp1"}}, slurm={"enabled": True},
                            jupyterhub={"enabled": True})
    assert [(p.name, p.namespace) for p in enabled_addons(cluster)] == [
        ("storage", "nfs-provisioner"), ("gpu", "gpu-operator"), ("slurm", "slinky"),
        ("slurm", "slurm"), ("jupyterhub", "jupyterhub")]
    assert namespaces_to_read(cluster) == (
        ["nfs-provisioner", "gpu-operator", "slinky", "slurm", "jupyterhub"], ["jupyterhub"])


def test_gpu_requests_use_limits_when_no_request() -> None:
    pod = k.pod("p", "default", "gpu1")
    pod["spec"]["containers"] += [
        {"name": "a", "resources": {"limits": {"nvidia.com/gpu": "2"}}},
        {"name": "b", "resources": {"requests": {"nvidia.com/gpu": "1"}}},
    ]
    assert gpu_requests(pod) == 3


def test_mixed_mig_counts_physical_gpus() -> None:
    mixed = NodeGpus(0, 0, 0, 8, count_label=8, mig_strategy="mixed")
    assert usable_gpus(mixed) == 8
    assert usable_gpus(NodeGpus(8, 7, 0, 8, count_label=8, mig_strategy="single")) == 7


def test_report_json_is_camel_case() -> None:
    doc = assess(small_cluster(), {"gpu1": 8}, gpu_operator_data(), [RUN]).to_json()
    assert doc["totals"] == {"nodesReady": 2, "nodesTotal": 2, "gpusCapacity": 8,
                             "gpusAllocatable": 8, "gpusExpected": 8, "gpusExpectedUnknown": [],
                             "gpusInUse": 3}
    assert doc["history"] == [{"id": RUN.id, "command": "deploy", "startedAt": RUN.started_at,
                               "durationS": 812.5, "result": "failed", "failedStage": "gpu",
                               "remaining": [], "timing": None}]  # a run of before the report
    assert doc["nodes"][1]["gpus"]["migConfig"] == "all-disabled"
    json.dumps(doc)


def _gpu(index: int) -> Gpu:
    return Gpu(index, "NVIDIA H100 80GB HBM3", f"GPU-{index}", 81559, "570.133.20", "Disabled")


def test_facts_count_gpus_like_preflight(tmp_path: Path) -> None:
    state = StateDir(tmp_path)
    state.facts_dir.mkdir()
    (state.facts_dir / "gpu1.json").write_text(json.dumps(HostFacts(gpus=[_gpu(0), _gpu(1)]).to_json()))
    pci = HostFacts(pci_gpus=["18:00.0 3D controller [0302]: NVIDIA Corporation GH100 [10de:2330]"])
    (state.facts_dir / "gpu2.json").write_text(json.dumps(pci.to_json()))
    (state.facts_dir / "gpu3.json").write_text("{not json")
    assert expected_gpus(state, ["gpu1", "gpu2", "gpu3", "gpu4"]) == {"gpu1": 2, "gpu2": 1}
    assert gpu_count({"hostname": "x"}) is None
