"""Pure: Kubernetes Node objects (and running pods) -> :class:`NodeStatus` rows and problems."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deepctl.clusterspec.models import Cluster, Host
from deepctl.status.model import ApiObject, NodeGpus, NodeStatus, Problem

GPU = "nvidia.com/gpu"
MIG_PREFIX = "nvidia.com/mig-"
ROLE_PREFIX = "node-role.kubernetes.io/"


def quantity(value: Any) -> int:
    """An integer resource quantity (``"8"``); anything else counts as 0."""
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return 0


def gpu_requests(pod: ApiObject) -> int:
    """``nvidia.com/gpu`` requested by a pod's containers (limits when no request is set)."""
    total = 0
    for container in pod.get("spec", {}).get("containers", []) or []:
        resources = container.get("resources", {}) or {}
        requests = resources.get("requests", {}) or {}
        limits = resources.get("limits", {}) or {}
        total += quantity(requests.get(GPU, limits.get(GPU, 0)))
    return total


def gpus_in_use(pods: list[ApiObject]) -> dict[str, int]:
    """GPUs requested by running pods, per node name."""
    used: dict[str, int] = {}
    for pod in pods:
        node = pod.get("spec", {}).get("nodeName")
        if not node or pod.get("status", {}).get("phase") != "Running":
            continue
        used[node] = used.get(node, 0) + gpu_requests(pod)
    return used


def gpu_pod(pod: ApiObject) -> ApiObject | None:
    """Pure: what status needs of a pod (its node, phase and GPU requests), or None for a pod
    that requests no GPU: of 40,000 pods only those are kept while the pages are read."""
    if gpu_requests(pod) == 0:
        return None
    containers = [{"resources": {key: {GPU: value[GPU]}
                                 for key, value in (c.get("resources") or {}).items()
                                 if key in ("requests", "limits") and GPU in (value or {})}}
                  for c in pod.get("spec", {}).get("containers", []) or []]
    return {"kind": pod.get("kind", "Pod"),
            "metadata": {k: v for k, v in (pod.get("metadata") or {}).items()
                         if k in ("name", "namespace")},
            "spec": {"nodeName": pod.get("spec", {}).get("nodeName"), "containers": containers},
            "status": {"phase": pod.get("status", {}).get("phase")}}


NODE_STATUS_FIELDS = ("conditions", "addresses", "capacity", "allocatable", "nodeInfo")


def node_fields(node: ApiObject) -> ApiObject:
    """Pure: only the fields of a node that status reads (no images, managedFields,
    annotations: most of a node's bytes)."""
    metadata = node.get("metadata") or {}
    status = node.get("status") or {}
    info = status.get("nodeInfo") or {}
    return {"kind": node.get("kind", "Node"),
            "metadata": {"name": metadata.get("name"), "labels": metadata.get("labels") or {}},
            "spec": {k: v for k, v in (node.get("spec") or {}).items()
                     if k in ("taints", "unschedulable")},
            "status": {**{k: status[k] for k in NODE_STATUS_FIELDS if k in status},
                       "nodeInfo": {"kubeletVersion": info.get("kubeletVersion")}},
            }


def _ready(node: ApiObject) -> bool:
    for condition in node.get("status", {}).get("conditions", []) or []:
        if condition.get("type") == "Ready":
            return bool(condition.get("status") == "True")
    return False


def _roles(labels: Mapping[str, str]) -> list[str]:
    return sorted(k[len(ROLE_PREFIX):] for k in labels if k.startswith(ROLE_PREFIX))


def _internal_ip(node: ApiObject) -> str | None:
    for address in node.get("status", {}).get("addresses", []) or []:
        if address.get("type") == "InternalIP":
            return str(address.get("address"))
    return None


def _taints(node: ApiObject) -> list[str]:
    out = []
    for taint in node.get("spec", {}).get("taints", []) or []:
        value = f"={taint['value']}" if taint.get("value") else ""
        out.append(f"{taint.get('key')}{value}:{taint.get('effect')}")
    return out


def _int_label(labels: Mapping[str, str], key: str) -> int | None:
    value = labels.get(key)
    return quantity(value) if value is not None else None


def node_gpus(node: ApiObject, in_use: int, expected: int | None) -> NodeGpus:
    status = node.get("status", {})
    capacity = status.get("capacity", {}) or {}
    allocatable = status.get("allocatable", {}) or {}
    labels = node.get("metadata", {}).get("labels", {}) or {}
    return NodeGpus(
        capacity=quantity(capacity.get(GPU, 0)),
        allocatable=quantity(allocatable.get(GPU, 0)),
        in_use=in_use,
        expected=expected,
        product=labels.get("nvidia.com/gpu.product"),
        count_label=_int_label(labels, "nvidia.com/gpu.count"),
        mig_config=labels.get("nvidia.com/mig.config"),
        mig_strategy=labels.get("nvidia.com/mig.strategy"),
        mig_devices={k: quantity(v) for k, v in sorted(allocatable.items()) if k.startswith(MIG_PREFIX)},
    )


def node_row(node: ApiObject, host: Host | None, in_use: int, expected: int | None) -> NodeStatus:
    metadata = node.get("metadata", {})
    ready = _ready(node)
    status = "Ready" if ready else "NotReady"
    if node.get("spec", {}).get("unschedulable"):
        status += ",SchedulingDisabled"
    return NodeStatus(
        name=str(metadata.get("name")),
        in_spec=host is not None,
        in_cluster=True,
        ready=ready,
        status=status,
        roles=_roles(metadata.get("labels", {}) or {}),
        kubelet=node.get("status", {}).get("nodeInfo", {}).get("kubeletVersion"),
        internal_ip=_internal_ip(node),
        taints=_taints(node),
        gpu_host=host.gpu if host is not None else False,
        gpus=node_gpus(node, in_use, expected),
    )


def missing_row(host: Host, expected: int | None) -> NodeStatus:
    return NodeStatus(
        name=host.name, in_spec=True, in_cluster=False, ready=None, status="missing",
        roles=list(host.roles), gpu_host=host.gpu, gpus=NodeGpus(expected=expected),
    )


def usable_gpus(gpus: NodeGpus) -> int:
    """GPUs a node offers, to compare with what preflight saw.

    Allocatable ``nvidia.com/gpu``; under the ``mixed`` MIG strategy GPUs are offered as
    ``nvidia.com/mig-*`` resources instead, so the physical count label of GPU Feature
    Discovery (``nvidia.com/gpu.count``) is used.
    """
    if gpus.mig_strategy == "mixed" and gpus.count_label is not None:
        return gpus.count_label
    return gpus.allocatable


def assess_nodes(
    cluster: Cluster, facts: Mapping[str, int], nodes: list[ApiObject], pods: list[ApiObject]
) -> tuple[list[NodeStatus], list[Problem]]:
    """Rows for every spec host (spec order) then every extra node, and their problems."""
    used = gpus_in_use(pods)
    by_name = {str(n.get("metadata", {}).get("name")): n for n in nodes}
    rows: list[NodeStatus] = []
    for host in cluster.spec.hosts:
        expected = facts.get(host.name) if host.gpu else None
        node = by_name.get(host.name)
        rows.append(node_row(node, host, used.get(host.name, 0), expected) if node is not None
                    else missing_row(host, expected))
    spec_names = {h.name for h in cluster.spec.hosts}
    rows += [node_row(by_name[name], None, used.get(name, 0), None)
             for name in sorted(by_name) if name not in spec_names]
    check_gpus = bool(cluster.spec.addons.gpu.enabled)
    return rows, [p for row in rows for p in node_problems(row, check_gpus)]


def node_problems(row: NodeStatus, check_gpus: bool) -> list[Problem]:
    subject = f"node {row.name}"
    if not row.in_cluster:
        return [Problem(subject, "in the spec but not in the cluster")]
    problems = []
    if not row.in_spec:
        problems.append(Problem(subject, "in the cluster but not in the spec", "warning"))
    if not row.ready:
        problems.append(Problem(subject, "NotReady"))
    if check_gpus and row.gpu_host:
        have, want = usable_gpus(row.gpus), row.gpus.expected
        if want and have < want:
            problems.append(Problem(subject, f"{have} of {want} GPUs allocatable "
                                             f"(preflight saw {want})"))
        elif have == 0:
            problems.append(Problem(subject, "no GPUs allocatable (the spec says gpu: true)"))
    return problems
