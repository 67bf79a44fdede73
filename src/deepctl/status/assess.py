"""Pure: spec + preflight facts + what the API returned + run history -> :class:`StatusReport`.

No I/O here; :mod:`deepctl.status.collect` reads the cluster, this module judges it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from deepctl.clusterspec.models import Cluster
from deepctl.status.model import (
    AddonStatus,
    ApiObject,
    ClusterData,
    ClusterPolicyStatus,
    Endpoint,
    NodeStatus,
    Platform,
    Problem,
    StatusReport,
    Totals,
    Workload,
)
from deepctl.status.nodes import assess_nodes, quantity
from deepctl.status.platform import ServiceLookup, enabled_addons, enabled_endpoints

if TYPE_CHECKING:
    from deepctl.state.runs import RunSummary

DEFAULT_CLASS_ANNOTATIONS = (
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
)


def assess(
    cluster: Cluster,
    facts: Mapping[str, int],
    data: ClusterData | None,
    runs: Sequence[RunSummary],
) -> StatusReport:
    """Judge a cluster. ``facts``: GPUs per host as preflight saw them (hosts it saw).

    ``data`` None means there is no kubeconfig yet: the cluster is not deployed.
    """
    if data is None:
        return StatusReport(
            cluster=cluster.name, state="not-deployed", health="unknown",
            totals=_totals(cluster, facts, []), history=list(runs),
        )
    nodes, problems = assess_nodes(cluster, facts, data.nodes, data.pods)
    platform, platform_problems = assess_platform(cluster, data, nodes)
    problems += platform_problems
    degraded = any(p.severity == "error" for p in problems)
    return StatusReport(
        cluster=cluster.name, state="deployed", health="degraded" if degraded else "healthy",
        endpoint=data.endpoint, nodes=nodes, platform=platform,
        totals=_totals(cluster, facts, nodes), problems=problems, history=list(runs),
    )


def _totals(cluster: Cluster, facts: Mapping[str, int], nodes: list[NodeStatus]) -> Totals:
    in_cluster = [n for n in nodes if n.in_cluster]
    gpu_hosts = [h.name for h in cluster.gpu_hosts]
    return Totals(
        nodes_ready=sum(1 for n in in_cluster if n.ready),
        nodes_total=len(in_cluster),
        gpus_capacity=sum(n.gpus.capacity for n in in_cluster),
        gpus_allocatable=sum(n.gpus.allocatable for n in in_cluster),
        gpus_expected=sum(facts[h] for h in gpu_hosts if h in facts),
        gpus_expected_unknown=[h for h in gpu_hosts if h not in facts],
        gpus_in_use=sum(n.gpus.in_use for n in in_cluster),
    )


def assess_platform(
    cluster: Cluster, data: ClusterData, nodes: list[NodeStatus]
) -> tuple[Platform, list[Problem]]:
    problems: list[Problem] = []
    addons = []
    for place in enabled_addons(cluster):
        workloads = [workload(item) for item in data.workloads.get(place.namespace, [])]
        if not workloads:
            problems.append(Problem(f"addon {place.name}",
                                    f"no workloads in namespace {place.namespace}"))
        for w in workloads:
            if not w.is_ready:
                problems.append(Problem(f"{w.kind} {place.namespace}/{w.name}",
                                        f"{w.ready}/{w.desired} ready"))
        ready = bool(workloads) and all(w.is_ready for w in workloads)
        addons.append(AddonStatus(place.name, place.namespace, workloads, ready))
    policy = cluster_policy(data.cluster_policies)
    if cluster.spec.addons.gpu.enabled:
        if policy is None:
            problems.append(Problem("GPU Operator", "no ClusterPolicy (nvidia.com/v1) found"))
        elif policy.state != "ready":
            problems.append(Problem(f"ClusterPolicy {policy.name}", f"state {policy.state}"))
    classes = [str(sc.get("metadata", {}).get("name")) for sc in data.storage_classes]
    default = default_storage_class(data.storage_classes)
    nfs = cluster.spec.addons.storage.nfs
    if nfs.enabled and nfs.default_class and default is None:
        problems.append(Problem("storage", "no default StorageClass (storage.nfs.defaultClass)"))
    address = _node_address(cluster, nodes)
    endpoints = [endpoint(lookup, ns, data.services.get(ns, []), address)
                 for lookup, ns in enabled_endpoints(cluster)]
    return Platform(addons, policy, default, classes, endpoints), problems


def workload(item: ApiObject) -> Workload:
    """Desired vs ready of a Deployment, DaemonSet or StatefulSet."""
    kind = str(item.get("kind", ""))
    name = str(item.get("metadata", {}).get("name"))
    spec, status = item.get("spec", {}) or {}, item.get("status", {}) or {}
    if kind == "DaemonSet":
        return Workload(kind, name, quantity(status.get("desiredNumberScheduled", 0)),
                        quantity(status.get("numberReady", 0)))
    replicas = spec.get("replicas", 1)
    return Workload(kind, name, quantity(replicas), quantity(status.get("readyReplicas", 0)))


def cluster_policy(items: list[ApiObject] | None) -> ClusterPolicyStatus | None:
    if not items:
        return None
    item = items[0]
    state = (item.get("status", {}) or {}).get("state") or "unknown"
    return ClusterPolicyStatus(str(item.get("metadata", {}).get("name")), str(state))


def default_storage_class(items: list[ApiObject]) -> str | None:
    for item in items:
        annotations = item.get("metadata", {}).get("annotations", {}) or {}
        if any(annotations.get(a) == "true" for a in DEFAULT_CLASS_ANNOTATIONS):
            return str(item["metadata"]["name"])
    return None


def _node_address(cluster: Cluster, nodes: list[NodeStatus]) -> str | None:
    """Where people reach a NodePort: the spec address of the first Ready node."""
    for node in nodes:
        if node.ready:
            host = cluster.host(node.name)
            return host.address if host is not None else node.internal_ip
    return None


def endpoint(lookup: ServiceLookup, namespace: str, services: list[ApiObject],
             address: str | None) -> Endpoint:
    """Where to reach a web UI: its Service's NodePort on ``address``, or its load balancer."""
    for svc in services:
        meta = svc.get("metadata", {})
        labels = meta.get("labels", {}) or {}
        if (lookup.name is not None and meta.get("name") == lookup.name) or (
            lookup.label is not None and labels.get(lookup.label[0]) == lookup.label[1]
        ):
            found = _service_endpoint(lookup, namespace, svc, address)
            if found.url is None:
                command = f"kubectl -n {namespace} port-forward svc/{found.service} {lookup.port_forward}"
                found = dataclasses.replace(found, port_forward=command)
            return found
    return Endpoint(lookup.title, namespace, None, None, None)


def _service_endpoint(lookup: ServiceLookup, namespace: str, svc: ApiObject,
                      address: str | None) -> Endpoint:
    spec = svc.get("spec", {}) or {}
    kind = str(spec.get("type", "ClusterIP"))
    ports = spec.get("ports", []) or []
    port = ports[0] if ports else {}
    scheme = "https" if port.get("name") == "https" or port.get("port") == 443 else "http"
    url = None
    ingress = (svc.get("status", {}).get("loadBalancer", {}) or {}).get("ingress", []) or []
    if kind == "LoadBalancer" and ingress and port.get("port"):
        host = ingress[0].get("ip") or ingress[0].get("hostname")
        url = f"{scheme}://{host}:{port['port']}"
    elif kind in ("NodePort", "LoadBalancer") and port.get("nodePort") and address:
        url = f"{scheme}://{address}:{port['nodePort']}"
    return Endpoint(lookup.title, namespace, str(svc["metadata"]["name"]), kind, url)
