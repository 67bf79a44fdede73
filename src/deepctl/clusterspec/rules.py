"""Semantic rules of the spec: pure functions of a parsed :class:`Cluster`.

Each rule yields :class:`Finding` objects (a field path, a message, a severity). Rules never
stop at the first problem; the loader attaches file positions and reports all of them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from ipaddress import IPv4Address, ip_address

from deepctl.clusterspec.addon_rules import check_addons, check_storage
from deepctl.clusterspec.finding import Finding, PathKey, closest, did_you_mean
from deepctl.clusterspec.kubespray_rules import (
    INVENTORY_ONLY_VARS,
    OWNED_KUBESPRAY_VARS,
    check_kubespray_fields,
    check_kubespray_vars,
)
from deepctl.clusterspec.models import Cluster, ExecutorConfig, Host
from deepctl.clusterspec.offline_rules import check_offline
from deepctl.clusterspec.slurm_rules import check_slurm
from deepctl.clusterspec.syntax import RFC1123_LABEL, address_problem, capped, label_problem, shown
from deepctl.clusterspec.verify_rules import check_verify
from deepctl.kubespray.release import load_release

__all__ = [
    "INVENTORY_ONLY_VARS",
    "OWNED_KUBESPRAY_VARS",
    "RULES",
    "Finding",
    "check",
    "closest",
    "did_you_mean",
]

LABEL_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?\Z"
)
LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?\Z")
DEFAULT_MAX_PODS = 110


def _host_path(index: int, *rest: str | int) -> PathKey:
    return ("spec", "hosts", index, *rest)


NODE_NAME_MAX = 63  # a Kubernetes label value (deepctl labels its GPU smoke pods with it)


def is_node_name(name: str) -> bool:
    """A lower-case DNS subdomain (RFC 1123, what Kubernetes node names are) that also fits a
    label value: ``gpu01`` or ``gpu01.lab``."""
    return len(name) <= NODE_NAME_MAX and all(RFC1123_LABEL.match(p) for p in name.split("."))


def check_cluster_name(cluster: Cluster) -> Iterator[Finding]:
    problem = label_problem(cluster.metadata.name, "cluster name")
    if problem is not None:
        yield Finding(("metadata", "name"), problem)


def check_host_names(cluster: Cluster) -> Iterator[Finding]:
    seen: dict[str, int] = {}
    for i, host in enumerate(cluster.spec.hosts):
        if not is_node_name(host.name):
            yield Finding(
                _host_path(i, "name"),
                f"host name {shown(host.name)} is not a lower-case RFC 1123 label, nor such "
                f"labels joined by dots (a-z, 0-9 and '-'; at most {NODE_NAME_MAX} characters "
                "in all; gpu01 or gpu01.lab): Kubespray names the Kubernetes node after it, "
                "and deepctl also uses it as a label value, which holds at most 63 characters",
            )
        if host.name in seen:
            yield Finding(
                _host_path(i, "name"),
                f"duplicate host name {shown(host.name)} (also spec.hosts[{seen[host.name]}])",
            )
        seen.setdefault(host.name, i)


def check_host_addresses(cluster: Cluster) -> Iterator[Finding]:
    seen: dict[str, int] = {}
    for i, host in enumerate(cluster.spec.hosts):
        problem = address_problem(host.address)
        if problem is not None:
            yield Finding(_host_path(i, "address"), problem)
        for field, value in (("address", host.address), ("internalAddress", host.internal_address),
                             ("internalAddress6", host.internal_address6)):
            if value is None:
                continue
            key = str(value)
            if key in seen and seen[key] != i:
                other = cluster.spec.hosts[seen[key]].name
                yield Finding(
                    _host_path(i, field),
                    f"address {capped(key)} is also used by host {shown(other)} "
                    f"(spec.hosts[{seen[key]}])",
                )
            seen.setdefault(key, i)


def check_roles(cluster: Cluster) -> Iterator[Finding]:
    if not cluster.control_plane:
        yield Finding(
            ("spec", "hosts"),
            "no host has the role 'control-plane'; at least one is needed",
        )
    etcd = len(cluster.etcd)
    if etcd == 0:
        yield Finding(("spec", "hosts"), "no host has the role 'etcd'; 1, 3 or 5 are needed")
    elif etcd % 2 == 0:
        yield Finding(
            ("spec", "hosts"),
            f"{etcd} hosts have the role 'etcd'; etcd needs an odd number (1, 3, 5) "
            "to keep quorum",
        )
    if not cluster.workers:
        yield Finding(
            ("spec", "hosts"),
            "no host has the role 'worker', so nothing can run workloads; add 'worker' to "
            "the roles of at least one host",
        )


def check_kube_version(cluster: Cluster) -> Iterator[Finding]:
    release = load_release(cluster.spec.kubespray.version) if _known_tag(cluster) else None
    if release is None:
        yield Finding(
            ("spec", "kubespray", "version"),
            f"deepctl does not know Kubespray {cluster.spec.kubespray.version!r}; "
            "it is pinned to v2.31.0",
        )
        return
    version = cluster.spec.kubernetes.version
    if not release.supports(version):
        minors = release.minors()
        newest = {m: next(v for v in release.supported_versions["amd64"] if v.startswith(m + "."))
                  for m in minors}
        choices = ", ".join(f"{m}.0-{newest[m]}" for m in minors)
        yield Finding(
            ("spec", "kubernetes", "version"),
            f"Kubernetes {version} is not supported by Kubespray {release.tag} "
            f"(supported: {choices}; default {release.default_kube_version})",
        )


def _known_tag(cluster: Cluster) -> bool:
    from deepctl.kubespray.release import known_tags

    return cluster.spec.kubespray.version in known_tags()


def _host_ips(host: Host) -> list[tuple[str, IPv4Address]]:
    out: list[tuple[str, IPv4Address]] = []
    try:
        address = ip_address(host.address)
        if isinstance(address, IPv4Address):
            out.append(("address", address))
    except ValueError:
        pass
    if host.internal_address is not None:
        out.append(("internalAddress", host.internal_address))
    return out


def check_subnets(cluster: Cluster) -> Iterator[Finding]:
    k8s = cluster.spec.kubernetes
    pods, services = k8s.pod_subnet, k8s.service_subnet
    if pods.overlaps(services):
        inner = "podSubnet lies inside serviceSubnet" if pods.subnet_of(services) else (
            "serviceSubnet lies inside podSubnet" if services.subnet_of(pods)
            else "they overlap")
        yield Finding(
            ("spec", "kubernetes", "serviceSubnet"),
            f"podSubnet {pods} and serviceSubnet {services} overlap ({inner}); "
            "choose ranges that do not",
        )
    for i, host in enumerate(cluster.spec.hosts):
        for field, address in _host_ips(host):
            for name, net in (("podSubnet", pods), ("serviceSubnet", services)):
                if address in net:
                    yield Finding(
                        _host_path(i, field),
                        f"host address {address} lies inside the {name} {net}; pod and "
                        "service ranges must not contain host addresses",
                    )


def check_node_prefix(cluster: Cluster) -> Iterator[Finding]:
    k8s = cluster.spec.kubernetes
    path: PathKey = ("spec", "kubernetes", "nodePrefix")
    pod_prefix = k8s.pod_subnet.prefixlen
    if k8s.node_prefix < pod_prefix:
        yield Finding(
            path,
            f"nodePrefix /{k8s.node_prefix} is larger than the podSubnet {k8s.pod_subnet} "
            f"itself; use a prefix of at least /{pod_prefix}",
        )
        return
    nodes = len([h for h in cluster.spec.hosts if {"control-plane", "worker"} & set(h.roles)])
    blocks = 2 ** (k8s.node_prefix - pod_prefix)
    if blocks < nodes:
        yield Finding(
            path,
            f"podSubnet {k8s.pod_subnet} split into /{k8s.node_prefix} blocks gives "
            f"{blocks} blocks for {nodes} nodes; use a larger podSubnet or a larger nodePrefix",
        )
    max_pods = cluster.spec.kubespray_vars.get("kubelet_max_pods", DEFAULT_MAX_PODS)
    if k8s.network_plugin not in ("calico", "none") and isinstance(max_pods, int):
        addresses = 2 ** (32 - k8s.node_prefix) - 2
        if max_pods > addresses:
            yield Finding(
                path,
                f"a /{k8s.node_prefix} block has {addresses} pod addresses but kubelet allows "
                f"{max_pods} pods per node; use nodePrefix {_prefix_for(max_pods)} or smaller",
            )


def _prefix_for(pods: int) -> int:
    prefix = 32
    while 2 ** (32 - prefix) - 2 < pods:
        prefix -= 1
    return prefix


def check_labels_and_taints(cluster: Cluster) -> Iterator[Finding]:
    for i, host in enumerate(cluster.spec.hosts):
        for key, value in host.labels.items():
            if not LABEL_KEY.match(key) or len(key.split("/")[-1]) > 63:
                yield Finding(_host_path(i, "labels", key), f"{shown(key)} is not a valid label key")
            if not LABEL_VALUE.match(value):
                yield Finding(
                    _host_path(i, "labels", key),
                    f"{shown(value)} is not a valid label value (at most 63 of A-Z a-z 0-9 - _ .)",
                )


def check_bastion(cluster: Cluster) -> Iterator[Finding]:
    bastion = cluster.spec.ssh.bastion
    problem = address_problem(bastion.address) if bastion is not None else None
    if problem is not None:
        yield Finding(("spec", "ssh", "bastion", "address"), problem)


def check_gpu_hosts(cluster: Cluster) -> Iterator[Finding]:
    """A host with GPUs must be a worker: GPU pods and the GPU Operator's node agents run
    on workers, and Kubespray taints control-plane-only hosts against workloads."""
    for i, host in enumerate(cluster.spec.hosts):
        if host.gpu and "worker" not in host.roles:
            yield Finding(
                _host_path(i, "gpu"),
                f"host {shown(host.name)} has gpu: true but not the role 'worker'; GPU hosts "
                "must be workers (GPU pods cannot run on a control-plane-only host): add "
                "'worker' to its roles, or remove gpu: true",
            )


def check_executor(cluster: Cluster) -> Iterator[Finding]:
    """spec.executor and every spec.executors entry, validated alike; the two not together."""
    spec = cluster.spec
    listed: list[tuple[tuple[str | int, ...], ExecutorConfig]] = [
        (("spec", "executors", i), e) for i, e in enumerate(spec.executors or [])]
    if spec.executor is not None:
        listed.insert(0, (("spec", "executor"), spec.executor))
    if not listed:
        return
    if spec.executor is not None and spec.executors is not None:
        yield Finding(("spec", "executors"),
                      "spec.executor and spec.executors are both set: give one executor as "
                      "spec.executor, or several as spec.executors (the first runs the "
                      "control plane and etcd), not both")
    for where, executor in listed:
        hop = executor.bastion.address if executor.bastion is not None else None
        for path, address in ((("address",), executor.address), (("bastion", "address"), hop)):
            problem = address_problem(address) if address is not None else None
            if problem is not None:  # the same rule as the hosts' addresses
                yield Finding((*where, *path), problem)
    seen: dict[tuple[str, int | None], int] = {}
    for i, executor in enumerate(spec.executors or []):
        first = seen.setdefault((executor.address, executor.port), i)
        if first != i:
            yield Finding(("spec", "executors", i, "address"),
                          f"executor {shown(executor.address)} is listed twice in "
                          f"spec.executors (entries {first} and {i}): each slice needs its "
                          "own executor")
    if cluster.spec.ansible.strategy == "mitogen":
        yield Finding(("spec", "ansible", "strategy"),
                      "mitogen is not supported with spec.executor (docs/executor.md); "
                      "use linear")


RULES: tuple[Callable[[Cluster], Iterator[Finding]], ...] = (
    check_cluster_name,
    check_host_names,
    check_host_addresses,
    check_roles,
    check_kube_version,
    check_subnets,
    check_node_prefix,
    check_labels_and_taints,
    check_addons,
    check_storage,
    check_slurm,
    check_kubespray_vars,
    check_kubespray_fields,
    check_bastion,
    check_gpu_hosts,
    check_executor,
    check_offline,
    check_verify,
)


def check(cluster: Cluster) -> list[Finding]:
    """Run every semantic rule; return all findings (errors and warnings)."""
    return [finding for rule in RULES for finding in rule(cluster)]


def count(findings: list[Finding]) -> Counter[str]:
    return Counter(f.severity for f in findings)
