"""Semantic rules of the spec: pure functions of a parsed :class:`Cluster`.

Each rule yields :class:`Finding` objects (a field path, a message, a severity). Rules never
stop at the first problem; the loader attaches file positions and reports all of them.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from ipaddress import IPv4Address, ip_address

from deepctl.errors import Severity
from deepctl.kubespray_release import load_release
from deepctl.spec.models import RFC1123_LABEL, Cluster, Host

PathKey = tuple[str | int, ...]

# Variables deepctl itself writes from the spec: kubesprayVars must not override them.
OWNED_KUBESPRAY_VARS = frozenset(
    {
        "kube_version",
        "kube_network_plugin",
        "kube_pods_subnet",
        "kube_service_addresses",
        "kube_network_node_prefix",
        "kube_proxy_mode",
        "container_manager",
        "dns_domain",
        "kubeconfig_localhost",
        "helm_enabled",
        "loadbalancer_apiserver",
        "loadbalancer_apiserver_localhost",
        "ansible_user",
        "ansible_host",
        "ansible_port",
        "ansible_become",
        "ansible_ssh_private_key_file",
        "ip",
        "access_ip",
        "node_labels",
        "node_taints",
    }
)
# Names an inventory may set that are not role defaults (connection and host variables).
INVENTORY_ONLY_VARS = frozenset(
    {"ansible_ssh_common_args", "ansible_python_interpreter", "etcd_member_name"}
)

LABEL_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?\Z"
)
LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?\Z")
DEFAULT_MAX_PODS = 110
MAX_LISTED = 20  # unknown kubesprayVars names listed in one warning


@dataclass(frozen=True)
class Finding:
    path: PathKey
    message: str
    severity: Severity = "error"


def closest(word: str, choices: list[str] | set[str] | frozenset[str]) -> str | None:
    """The nearest name to ``word`` among ``choices``, if one is near enough."""
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.75)
    return close[0] if close else None


def did_you_mean(word: str, choices: list[str] | set[str] | frozenset[str]) -> str:
    """'; did you mean X?' when a near name exists, else ''."""
    near = closest(word, choices)
    return f"; did you mean {near!r}?" if near else ""


def _host_path(index: int, *rest: str | int) -> PathKey:
    return ("spec", "hosts", index, *rest)


def check_cluster_name(cluster: Cluster) -> Iterator[Finding]:
    if not RFC1123_LABEL.match(cluster.metadata.name):
        yield Finding(
            ("metadata", "name"),
            f"{cluster.metadata.name!r} is not a lower-case RFC 1123 label "
            "(a-z, 0-9 and '-', at most 63 characters, starting and ending alphanumeric)",
        )


def check_host_names(cluster: Cluster) -> Iterator[Finding]:
    seen: dict[str, int] = {}
    for i, host in enumerate(cluster.spec.hosts):
        if not RFC1123_LABEL.match(host.name):
            yield Finding(
                _host_path(i, "name"),
                f"host name {host.name!r} is not a lower-case RFC 1123 label "
                "(a-z, 0-9 and '-', at most 63 characters); Kubernetes node names must be",
            )
        if host.name in seen:
            yield Finding(
                _host_path(i, "name"),
                f"duplicate host name {host.name!r} (also spec.hosts[{seen[host.name]}])",
            )
        seen.setdefault(host.name, i)


def check_host_addresses(cluster: Cluster) -> Iterator[Finding]:
    seen: dict[str, int] = {}
    for i, host in enumerate(cluster.spec.hosts):
        if not _valid_address(host.address):
            yield Finding(
                _host_path(i, "address"),
                f"{host.address!r} is neither an IP address nor a DNS name",
            )
        for field, value in (("address", host.address), ("internalAddress", host.internal_address)):
            if value is None:
                continue
            key = str(value)
            if key in seen and seen[key] != i:
                other = cluster.spec.hosts[seen[key]].name
                yield Finding(
                    _host_path(i, field),
                    f"address {key} is also used by host {other!r} (spec.hosts[{seen[key]}])",
                )
            seen.setdefault(key, i)


def _valid_address(value: str) -> bool:
    try:
        ip_address(value)
        return True
    except ValueError:
        pass
    if len(value) > 253 or not value:
        return False
    return all(RFC1123_LABEL.match(part.lower()) for part in value.split("."))


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
    from deepctl.kubespray_release import known_tags

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
                yield Finding(_host_path(i, "labels", key), f"{key!r} is not a valid label key")
            if not LABEL_VALUE.match(value):
                yield Finding(
                    _host_path(i, "labels", key),
                    f"{value!r} is not a valid label value (at most 63 of A-Z a-z 0-9 - _ .)",
                )


def check_addons(cluster: Cluster) -> Iterator[Finding]:
    addons = cluster.spec.addons
    gpu = addons.gpu
    if gpu.enabled and not cluster.gpu_hosts:
        yield Finding(
            ("spec", "addons", "gpu", "enabled"),
            "the GPU addon is enabled but no host has 'gpu: true'; the GPU Operator will "
            "find nothing to manage",
            "warning",
        )
    if not gpu.enabled and gpu.mig.strategy != "none":
        yield Finding(
            ("spec", "addons", "gpu", "mig", "strategy"),
            f"MIG strategy {gpu.mig.strategy!r} needs the GPU addon (addons.gpu.enabled: true)",
        )
    if gpu.driver.install and not gpu.driver.version:
        yield Finding(
            ("spec", "addons", "gpu", "driver", "version"),
            "driver.install is true but no driver version is given; the operator default "
            "will be used",
            "warning",
        )
    nfs = addons.storage.nfs
    if nfs.enabled and nfs.server is None and nfs.external_server is None:
        yield Finding(
            ("spec", "addons", "storage", "nfs", "server"),
            "NFS storage is enabled but no server host is named (set server to one of the "
            "hosts, or externalServer to an NFS server deepctl does not manage)",
        )
    if nfs.server is not None and cluster.host(nfs.server) is None:
        names = {h.name for h in cluster.spec.hosts}
        yield Finding(
            ("spec", "addons", "storage", "nfs", "server"),
            f"NFS server {nfs.server!r} is not a host of this spec{did_you_mean(nfs.server, names)}",
        )


def check_kubespray_vars(cluster: Cluster) -> Iterator[Finding]:
    variables = cluster.spec.kubespray_vars
    if not variables:
        return
    known = load_release().variables | INVENTORY_ONLY_VARS
    owned = set(OWNED_KUBESPRAY_VARS)
    if cluster.spec.addons.gpu.enabled and cluster.spec.kubernetes.container_runtime == "containerd":
        owned.add("containerd_additional_runtimes")  # carries the NVIDIA runtime (docs/addons.md)
    unknown = []
    for name in variables:
        if name in owned:
            yield Finding(
                ("spec", "kubesprayVars", name),
                f"{name!r} is set by deepctl from the spec; change the spec field instead "
                "of overriding it here",
            )
        elif name not in known:
            unknown.append(name)
    if unknown:
        # Suggestions cost a fuzzy search over ~3,000 names each: only for the first few.
        shown = [_with_suggestion(name, known) for name in unknown[:MAX_LISTED]]
        more = f" and {len(unknown) - MAX_LISTED} more" if len(unknown) > MAX_LISTED else ""
        yield Finding(
            ("spec", "kubesprayVars"),
            f"Kubespray {load_release().tag} defines no variable named: {', '.join(shown)}{more}",
            "warning",
        )


def _with_suggestion(name: str, known: frozenset[str]) -> str:
    near = closest(name, known)
    return f"{name} (did you mean {near}?)" if near else name


CEPH_REPLICAS = 3  # the rook-ceph-cluster chart's default block pool: 3 replicas, one per host
DEVICE_PATH = re.compile(r"^/dev/[A-Za-z0-9_.:+@-]+(/[A-Za-z0-9_.:+@-]+)*\Z")


def check_storage(cluster: Cluster) -> Iterator[Finding]:
    """NFS server xor external server; Ceph devices are /dev paths on enough hosts."""
    storage = cluster.spec.addons.storage
    nfs = storage.nfs
    if nfs.server is not None and nfs.external_server is not None:
        yield Finding(("spec", "addons", "storage", "nfs", "externalServer"),
                      f"both server ({nfs.server!r}, managed by deepctl) and externalServer "
                      f"({nfs.external_server!r}) are set; keep one of them")
    for i, host in enumerate(cluster.spec.hosts):
        for j, device in enumerate(host.ceph_devices):
            if not DEVICE_PATH.match(device) or ".." in device.split("/"):
                yield Finding(_host_path(i, "cephDevices", j),
                              f"{device!r} is not an absolute device path such as /dev/nvme1n1 "
                              "or /dev/disk/by-id/...")
            elif device in host.ceph_devices[:j]:
                yield Finding(_host_path(i, "cephDevices", j), f"{device} is listed twice")
    with_devices = [h.name for h in cluster.spec.hosts if h.ceph_devices]
    if storage.ceph.enabled and len(with_devices) < CEPH_REPLICAS:
        found = f" (only {', '.join(with_devices)})" if with_devices else ""
        yield Finding(("spec", "addons", "storage", "ceph", "enabled"),
                      f"Ceph needs cephDevices on at least {CEPH_REPLICAS} hosts: its default "
                      f"block pool keeps {CEPH_REPLICAS} replicas on different hosts; "
                      f"{len(with_devices)} host(s) list devices{found}")
    elif not storage.ceph.enabled and with_devices:
        yield Finding(("spec", "addons", "storage", "ceph", "enabled"),
                      f"cephDevices are listed ({', '.join(with_devices)}) but Ceph is not "
                      "enabled; they are ignored", "warning")


def check_bastion(cluster: Cluster) -> Iterator[Finding]:
    bastion = cluster.spec.ssh.bastion
    if bastion is not None and not _valid_address(bastion.address):
        yield Finding(
            ("spec", "ssh", "bastion", "address"),
            f"{bastion.address!r} is neither an IP address nor a DNS name",
        )


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
    check_kubespray_vars,
    check_bastion,
)


def check(cluster: Cluster) -> list[Finding]:
    """Run every semantic rule; return all findings (errors and warnings)."""
    return [finding for rule in RULES for finding in rule(cluster)]


def count(findings: list[Finding]) -> Counter[str]:
    return Counter(f.severity for f in findings)
