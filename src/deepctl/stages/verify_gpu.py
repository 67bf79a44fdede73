"""Pure parts of the verify stage's GPU checks.

1. **Allocatable GPUs.** Each GPU host's node must offer what preflight saw on the host
   (``<state>/facts/<host>.json``, counted by preflight's own ``gpu_count``):
   with MIG strategy ``none``, allocatable ``nvidia.com/gpu`` equals GPUs x time-slicing
   replicas; with ``single``/``mixed`` the MIG instances' number depends on the MIG profile,
   so GPU Feature Discovery's physical count label (``nvidia.com/gpu.count``) must equal it
   and something (``nvidia.com/gpu`` or ``nvidia.com/mig-*``) must be allocatable.
2. **CUDA smoke Jobs.** One Job per GPU node, pinned to it (``nodeSelector`` on
   ``kubernetes.io/hostname``, which Kubespray sets to the inventory name), running
   ``nvidia-smi`` with one GPU; each must complete. A failure names the node, with the
   pod's state and log tail.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import yaml

from deepctl.addons.decisions import SMOKE_IMAGE
from deepctl.addons.manifests import namespace_manifest
from deepctl.clusterspec.models import TAINT, Cluster, Host
from deepctl.kubevars.offline import mirror_image
from deepctl.status.model import ApiObject
from deepctl.status.nodes import GPU, node_gpus

SMOKE_NAMESPACE = "deepctl-verify"
SMOKE_APP = "deepctl-gpu-smoke"
SMOKE_SELECTOR = f"app.kubernetes.io/name={SMOKE_APP}"
NODE_LABEL = "deepctl.io/node"
# Pinned CUDA base image: it only needs nvidia-smi, which the toolkit injects from the driver.
SMOKE_TIMEOUT_S = 600  # image pull + run, per verify
SMOKE_POLL_S = 5
LOG_TAIL_LINES = 20

SmokeStatus = Literal["succeeded", "failed", "unfinished"]


@dataclass(frozen=True)
class GpuExpectation:
    """What a GPU host's node should offer, from preflight's facts and the spec."""

    node: str
    seen: int | None  # GPUs preflight saw; None: no facts (preflight never ran for this host)
    allocatable: int | None  # exact nvidia.com/gpu; None: MIG or unknown, see module doc
    replicas: int = 1


def expectations(cluster: Cluster, seen: Mapping[str, int]) -> list[GpuExpectation]:
    """One :class:`GpuExpectation` per GPU host of the spec (spec order)."""
    gpu = cluster.spec.addons.gpu
    replicas = gpu.time_slicing_replicas or 1
    out = []
    for host in cluster.gpu_hosts:
        count = seen.get(host.name)
        exact = count * replicas if count is not None and gpu.mig.strategy == "none" else None
        out.append(GpuExpectation(host.name, count, exact, replicas))
    return out


def gpu_problem(want: GpuExpectation, node: ApiObject | None) -> str | None:
    """Why ``node`` does not offer what ``want`` says (None: it does)."""
    if node is None:
        return "not a node of the cluster"
    gpus = node_gpus(node, 0, None)
    offered = gpus.allocatable + sum(gpus.mig_devices.values())
    sharing = f" x {want.replicas} time-slicing replicas" if want.replicas > 1 else ""
    if want.allocatable is not None and gpus.allocatable != want.allocatable:
        return (f"{gpus.allocatable} {GPU} allocatable, expected {want.allocatable} "
                f"(preflight saw {want.seen} GPU(s){sharing})")
    if want.allocatable is None and want.seen is not None and gpus.count_label is not None \
            and gpus.count_label != want.seen:
        return (f"GPU Feature Discovery counts {gpus.count_label} GPU(s) "
                f"(nvidia.com/gpu.count), preflight saw {want.seen}")
    if offered == 0:
        return f"no GPU allocatable ({GPU} or nvidia.com/mig-*)"
    return None


def gpu_problems(wanted: list[GpuExpectation], nodes: Mapping[str, ApiObject]) -> dict[str, str]:
    """``{node: problem}`` for the nodes that do not offer what preflight saw (spec order)."""
    return {w.node: p for w in wanted if (p := gpu_problem(w, nodes.get(w.node))) is not None}


def smoke_resource(node: ApiObject) -> str | None:
    """The GPU resource a smoke pod asks for: ``nvidia.com/gpu``, else the first MIG device."""
    gpus = node_gpus(node, 0, None)
    if gpus.allocatable > 0:
        return GPU
    return next((name for name, n in gpus.mig_devices.items() if n > 0), None)


def smoke_job_name(node: str) -> str:
    """``deepctl-gpu-smoke-<node>``, hashed when longer than a label value (63) allows."""
    name = f"{SMOKE_APP}-{node}"
    if len(name) <= 63:
        return name
    return f"{SMOKE_APP}-{hashlib.sha256(node.encode()).hexdigest()[:12]}"


def tolerations(host: Host) -> list[dict[str, str]]:
    """Tolerate the GPU taint and the host's own spec taints (so the pod lands there)."""
    out = [{"key": GPU, "operator": "Exists", "effect": "NoSchedule"}]
    for taint in host.taints:
        match = TAINT.match(taint)
        if match is None:
            continue
        item = {"key": match["key"], "operator": "Equal" if match["value"] else "Exists",
                "effect": match["effect"]}
        if match["value"]:
            item["value"] = match["value"]
        out.append(item)
    return out


def smoke_job(host: Host, resource: str, image: str = SMOKE_IMAGE) -> dict[str, Any]:
    """The Job that runs ``nvidia-smi`` with one GPU on ``host``'s node."""
    labels = {"app.kubernetes.io/name": SMOKE_APP, "app.kubernetes.io/managed-by": "deepctl",
              NODE_LABEL: host.name}
    container = {
        "name": "nvidia-smi",
        "image": image,
        "command": ["nvidia-smi"],
        # The check is GPU access, not the driver's CUDA version against the image's.
        "env": [{"name": "NVIDIA_DISABLE_REQUIRE", "value": "true"}],
        "resources": {"limits": {resource: 1}},
        "securityContext": {"allowPrivilegeEscalation": False,
                            "capabilities": {"drop": ["ALL"]}},
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": smoke_job_name(host.name), "namespace": SMOKE_NAMESPACE,
                     "labels": labels},
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": SMOKE_TIMEOUT_S,
            "ttlSecondsAfterFinished": 86400,
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "restartPolicy": "Never",
                    "runtimeClassName": "nvidia",
                    "nodeSelector": {"kubernetes.io/hostname": host.name},
                    "tolerations": tolerations(host),
                    "containers": [container],
                },
            },
        },
    }


def smoke_manifest(jobs: list[dict[str, Any]]) -> str:
    """The namespace and the Jobs, as one multi-document YAML text."""
    docs = [yaml.safe_dump(job, sort_keys=False) for job in jobs]
    return "---\n".join([namespace_manifest(SMOKE_NAMESPACE), *docs])


def smoke_image(cluster: Cluster) -> str:
    """The smoke Job's image: upstream, or its place in ``spec.offline.registry``."""
    offline = cluster.spec.offline
    return mirror_image(SMOKE_IMAGE, offline.registry) if offline else SMOKE_IMAGE


def smoke_jobs(cluster: Cluster, nodes: Mapping[str, ApiObject]) -> list[dict[str, Any]]:
    """A Job for every GPU host whose node offers a GPU resource (spec order)."""
    out = []
    for host in cluster.gpu_hosts:
        node = nodes.get(host.name)
        resource = smoke_resource(node) if node is not None else None
        if resource is not None:
            out.append(smoke_job(host, resource, smoke_image(cluster)))
    return out


@dataclass(frozen=True)
class SmokeOutcome:
    node: str
    status: SmokeStatus
    detail: str = ""  # the pod's state, when it says more than the status
    log_tail: str = ""


def items(text: str) -> list[ApiObject]:
    """``items`` of a ``kubectl get ... -o json`` output ([] when unreadable)."""
    try:
        data = json.loads(text)
    except (TypeError, ValueError):
        return []
    found = data.get("items") if isinstance(data, dict) else None
    return [i for i in found if isinstance(i, dict)] if isinstance(found, list) else []


def job_status(job: ApiObject) -> SmokeStatus:
    """A Job's outcome from its conditions (Kubernetes >= 1.31 adds the *Target/*Met ones)."""
    status = job.get("status", {}) or {}
    for condition in status.get("conditions", []) or []:
        if condition.get("status") != "True":
            continue
        if condition.get("type") in ("Complete", "SuccessCriteriaMet"):
            return "succeeded"
        if condition.get("type") in ("Failed", "FailureTarget"):
            return "failed"
    return "unfinished"


def _node_of(obj: ApiObject) -> str:
    return str((obj.get("metadata", {}).get("labels", {}) or {}).get(NODE_LABEL, ""))


def pod_detail(pod: ApiObject) -> str:
    """``phase: reason message`` of a smoke pod (waiting/terminated container, or unscheduled)."""
    status = pod.get("status", {}) or {}
    parts = [str(status.get("phase", "Unknown"))]
    for container in status.get("containerStatuses", []) or []:
        state = container.get("state", {}) or {}
        waiting, done = state.get("waiting"), state.get("terminated")
        if waiting:
            parts.append(f"{waiting.get('reason', '')} {waiting.get('message', '')}".strip())
        elif done:
            parts.append(f"{done.get('reason', '')}, exit code {done.get('exitCode')}")
    for condition in status.get("conditions", []) or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            parts.append(str(condition.get("message") or condition.get("reason", "")))
    return ": ".join(p for p in parts if p)


def smoke_outcomes(nodes: list[str], jobs_json: str, pods_json: str,
                   logs: Mapping[str, str]) -> list[SmokeOutcome]:
    """Per node of ``nodes``: its Job's outcome, the pod state and the log tail."""
    jobs = {_node_of(j): j for j in items(jobs_json)}
    pods = {_node_of(p): p for p in items(pods_json)}
    out = []
    for node in nodes:
        job = jobs.get(node)
        status: SmokeStatus = job_status(job) if job is not None else "unfinished"
        pod = pods.get(node)
        detail = pod_detail(pod) if pod is not None else "no pod was created"
        tail = "\n".join(logs.get(node, "").strip().splitlines()[-LOG_TAIL_LINES:])
        out.append(SmokeOutcome(node, status, detail, tail))
    return out


def describe_failure(outcome: SmokeOutcome) -> str:
    """One failed node, for the error message (its log tail indented below)."""
    what = "failed" if outcome.status == "failed" else \
        f"did not finish within {SMOKE_TIMEOUT_S} s"
    text = f"GPU smoke Job {what} on {outcome.node} (pod {outcome.detail})"
    if outcome.log_tail:
        text += "\n      " + "\n      ".join(outcome.log_tail.splitlines())
    return text
