"""The verify stage's pure GPU checks: expectations from preflight, node offers, smoke Jobs."""

from __future__ import annotations

import json
from typing import Any

import yaml

from deepctl.clusterspec.models import Cluster
from deepctl.stages import verify_gpu as v
from tests.fixtures.k8s_objects import node


def cluster(gpu: dict[str, Any] | None = None, taints: list[str] | None = None) -> Cluster:
    return Cluster.model_validate({
        "metadata": {"name": "lab"},
        "spec": {
            "hosts": [
                {"name": "cp1", "address": "10.0.0.1", "roles": ["control-plane", "etcd", "worker"]},
                {"name": "gpu1", "address": "10.0.0.2", "roles": ["worker"], "gpu": True,
                 "taints": taints or []},
                {"name": "gpu2", "address": "10.0.0.3", "roles": ["worker"], "gpu": True},
            ],
            "addons": {"gpu": gpu or {}},
        },
    })


def mig_node(name: str, devices: dict[str, int], count: int = 8) -> dict[str, Any]:
    obj = node(name, "10.0.0.9", gpus=count, allocatable=0)
    obj["status"]["allocatable"].update({k: str(n) for k, n in devices.items()})
    return obj


def test_expectations_multiply_by_time_slicing_and_leave_mig_to_the_count_label() -> None:
    seen = {"gpu1": 8}
    assert v.expectations(cluster(), seen) == [
        v.GpuExpectation("gpu1", 8, 8), v.GpuExpectation("gpu2", None, None)]
    assert v.expectations(cluster({"timeSlicingReplicas": 4}), seen)[0] == \
        v.GpuExpectation("gpu1", 8, 32, 4)
    assert v.expectations(cluster({"mig": {"strategy": "single"}}), seen)[0] == \
        v.GpuExpectation("gpu1", 8, None)


def test_gpu_problems_name_the_node_and_say_what_differs() -> None:
    want = v.expectations(cluster({"timeSlicingReplicas": 2}), {"gpu1": 8, "gpu2": 8})
    nodes = {"gpu1": node("gpu1", "10.0.0.2", gpus=8, allocatable=16),
             "gpu2": node("gpu2", "10.0.0.3", gpus=8, allocatable=14)}
    assert v.gpu_problems(want, nodes) == {
        "gpu2": "14 nvidia.com/gpu allocatable, expected 16 "
                "(preflight saw 8 GPU(s) x 2 time-slicing replicas)"}
    assert v.gpu_problems(want, {"gpu1": nodes["gpu1"]}) == {"gpu2": "not a node of the cluster"}


def test_more_gpus_than_preflight_saw_is_a_problem_too() -> None:
    want = v.expectations(cluster(), {"gpu1": 4, "gpu2": 8})
    nodes = {"gpu1": node("gpu1", "10.0.0.2", gpus=8), "gpu2": node("gpu2", "10.0.0.3", gpus=8)}
    assert list(v.gpu_problems(want, nodes)) == ["gpu1"]


def test_without_facts_a_node_only_needs_some_gpu() -> None:
    want = v.expectations(cluster(), {})
    nodes = {"gpu1": node("gpu1", "10.0.0.2", gpus=2), "gpu2": node("gpu2", "10.0.0.3")}
    assert v.gpu_problems(want, nodes) == {
        "gpu2": "no GPU allocatable (nvidia.com/gpu or nvidia.com/mig-*)"}


def test_mig_compares_the_physical_count_label() -> None:
    want = v.expectations(cluster({"mig": {"strategy": "mixed"}}), {"gpu1": 8, "gpu2": 8})
    nodes = {"gpu1": mig_node("gpu1", {"nvidia.com/mig-1g.10gb": 56}),
             "gpu2": mig_node("gpu2", {"nvidia.com/mig-1g.10gb": 49}, count=7)}
    assert v.gpu_problems(want, nodes) == {
        "gpu2": "GPU Feature Discovery counts 7 GPU(s) (nvidia.com/gpu.count), preflight saw 8"}
    assert v.smoke_resource(nodes["gpu1"]) == "nvidia.com/mig-1g.10gb"
    assert v.smoke_resource(node("cp1", "10.0.0.1")) is None


def test_smoke_jobs_one_per_gpu_node_pinned_with_tolerations() -> None:
    c = cluster(taints=["dedicated=ml:NoSchedule", "gpu:NoExecute"])
    nodes = {"cp1": node("cp1", "10.0.0.1"), "gpu1": node("gpu1", "10.0.0.2", gpus=8),
             "gpu2": node("gpu2", "10.0.0.3", gpus=8, allocatable=0)}
    jobs = v.smoke_jobs(c, nodes)
    assert [j["metadata"]["name"] for j in jobs] == ["deepctl-gpu-smoke-gpu1"]  # gpu2 offers none
    pod = jobs[0]["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"kubernetes.io/hostname": "gpu1"}
    assert pod["tolerations"] == [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "dedicated", "operator": "Equal", "effect": "NoSchedule", "value": "ml"},
        {"key": "gpu", "operator": "Exists", "effect": "NoExecute"}]
    container = pod["containers"][0]
    assert (container["image"], container["command"]) == (v.SMOKE_IMAGE, ["nvidia-smi"])
    assert container["resources"] == {"limits": {"nvidia.com/gpu": 1}}
    assert jobs[0]["spec"]["backoffLimit"] == 0
    docs = list(yaml.safe_load_all(v.smoke_manifest(jobs)))
    assert [(d["kind"], d["metadata"]["name"]) for d in docs] == [
        ("Namespace", "deepctl-verify"), ("Job", "deepctl-gpu-smoke-gpu1")]


def test_long_node_names_give_short_job_names() -> None:
    name = v.smoke_job_name("n" * 63)
    assert len(name) <= 63 and name.startswith("deepctl-gpu-smoke-")
    assert name != v.smoke_job_name("n" * 62 + "m")


def job(node_name: str, conditions: list[dict[str, str]]) -> dict[str, Any]:
    return {"metadata": {"labels": {v.NODE_LABEL: node_name}}, "status": {"conditions": conditions}}


def test_smoke_outcomes_per_node() -> None:
    jobs = json.dumps({"items": [
        job("gpu1", [{"type": "SuccessCriteriaMet", "status": "True"},
                     {"type": "Complete", "status": "True"}]),
        job("gpu2", [{"type": "FailureTarget", "status": "True"}])]})
    pods = json.dumps({"items": [
        {"metadata": {"labels": {v.NODE_LABEL: "gpu2"}},
         "status": {"phase": "Pending",
                    "containerStatuses": [{"state": {"waiting": {
                        "reason": "ErrImagePull", "message": "not found"}}}]}},
        {"metadata": {"labels": {v.NODE_LABEL: "gpu3"}},
         "status": {"phase": "Pending", "conditions": [{
             "type": "PodScheduled", "status": "False",
             "message": "0/3 nodes are available: 1 Insufficient nvidia.com/gpu."}]}}]})
    logs = {"gpu1": "\n".join(f"line {i}" for i in range(30)), "gpu2": ""}
    out = v.smoke_outcomes(["gpu1", "gpu2", "gpu3", "gpu4"], jobs, pods, logs)
    assert [(o.node, o.status) for o in out] == [
        ("gpu1", "succeeded"), ("gpu2", "failed"), ("gpu3", "unfinished"), ("gpu4", "unfinished")]
    assert out[0].log_tail.splitlines() == [f"line {i}" for i in range(10, 30)]
    assert out[1].detail == "Pending: ErrImagePull not found"
    assert out[2].detail == "Pending: 0/3 nodes are available: 1 Insufficient nvidia.com/gpu."
    assert out[3].detail == "no pod was created"
    assert v.describe_failure(out[2]) == (
        "GPU smoke Job did not finish within 600 s on gpu3 "
        "(pod Pending: 0/3 nodes are available: 1 Insufficient nvidia.com/gpu.)")
    assert v.smoke_outcomes(["gpu1"], "", "not json", {})[0].status == "unfinished"
