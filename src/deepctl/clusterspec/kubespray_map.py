"""Which Kubespray variable each typed spec field writes: declared once, used everywhere.

The rules (a typed variable in kubesprayVars points at its field), the inventory renderer,
``deepctl vars`` and ``deepctl import`` all read this table. A field left unset (``None``)
writes nothing, so Kubespray's own default applies. The always-present core fields
(``kubernetes.version``...) hold Kubespray's defaults as their own defaults.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import Any, Literal

from pydantic import BaseModel

from deepctl.clusterspec.models import Cluster

Kind = Literal["field", "derived", "kubesprayVars"]
KUBE_APISERVER_PORT = 6443  # Kubespray's kube_apiserver_port


@dataclass(frozen=True)
class Setting:
    """One Kubespray variable deepctl writes, and why."""

    name: str
    value: Any
    kind: Kind
    source: str  # the field path (spec.kubernetes.version), or the reason deepctl sets it


# Kubespray variable -> the one spec field (under spec.) that holds it, value as is.
FIELD_VARIABLES: dict[str, str] = {
    "kube_version": "kubernetes.version",
    "kube_network_plugin": "kubernetes.networkPlugin",
    "kube_pods_subnet": "kubernetes.podSubnet",
    "kube_service_addresses": "kubernetes.serviceSubnet",
    "kube_network_node_prefix": "kubernetes.nodePrefix",
    "kube_proxy_mode": "kubernetes.proxyMode",
    "container_manager": "kubernetes.containerRuntime",
    "dns_domain": "kubernetes.dnsDomain",
    "auto_renew_certificates": "kubernetes.autoRenewCertificates",
    "kube_asymmetric_encryption_algorithm": "kubernetes.certificateKeyAlgorithm",
    "enable_nodelocaldns": "kubernetes.nodeLocalDns.enabled",
    "nodelocaldns_ip": "kubernetes.nodeLocalDns.address",
    "enable_nodelocaldns_secondary": "kubernetes.nodeLocalDns.secondary",
    "dns_mode": "kubernetes.dnsMode",
    "resolvconf_mode": "kubernetes.resolvConfMode",
    "etcd_deployment_type": "kubernetes.etcd.deploymentType",
    "containerd_static_binary": "kubernetes.containerd.staticBinary",
    "containerd_registries_mirrors": "kubernetes.containerd.registryMirrors",
    "crio_registries": "kubernetes.crio.registries",
    "loadbalancer_apiserver_localhost": "kubernetes.localApiServerLoadBalancer.enabled",
    "loadbalancer_apiserver_type": "kubernetes.localApiServerLoadBalancer.type",
    "calico_network_backend": "kubernetes.calico.networkBackend",
    "calico_pool_blocksize": "kubernetes.calico.blockSize",
    "calico_bpf_enabled": "kubernetes.calico.bpf",
    "calico_wireguard_enabled": "kubernetes.calico.wireguard",
    "calico_datastore": "kubernetes.calico.datastore",
    "enable_network_policy": "kubernetes.networkPolicy",
    "kube_feature_gates": "kubernetes.featureGates",
    "metrics_server_enabled": "kubernetes.metricsServer",
    "helm_enabled": "kubernetes.helm",
    "kube_owner": "kubernetes.fileOwner",
    "ipv4_stack": "kubernetes.dualStack.ipv4",
    "ipv6_stack": "kubernetes.dualStack.ipv6",
    "kube_pods_subnet_ipv6": "kubernetes.dualStack.podSubnet",
    "kube_service_addresses_ipv6": "kubernetes.dualStack.serviceSubnet",
    "kube_network_node_prefix_ipv6": "kubernetes.dualStack.nodePrefix",
    "ntp_enabled": "os.ntp.enabled",
    "ntp_package": "os.ntp.package",
    "ntp_servers": "os.ntp.servers",
    "ntp_timezone": "os.ntp.timezone",
    "ntp_manage_config": "os.ntp.manageConfig",
    "preinstall_selinux_state": "os.selinux",
    "kube_proxy_strict_arp": "kubernetes.strictArp",
}
# Variables written from several fields (or one field in a different shape).
COMPOSITE_VARIABLES: dict[str, str] = {
    "calico_vxlan_mode": "kubernetes.calico.encapsulation",
    "calico_ipip_mode": "kubernetes.calico.encapsulation",
    "cilium_kube_proxy_replacement": "kubernetes.kubeProxyReplacement",
    "kube_router_run_service_proxy": "kubernetes.kubeProxyReplacement",
    "loadbalancer_apiserver": "kubernetes.apiServerLoadBalancer",
    "containerd_registry_auth": "kubernetes.containerd.registryAuth",
    "kube_vip_enabled": "kubernetes.kubeVip",
    "kube_vip_controlplane_enabled": "kubernetes.kubeVip",
    "kube_vip_address": "kubernetes.kubeVip.address",
    "kube_vip_arp_enabled": "kubernetes.kubeVip.mode",
    "kube_vip_bgp_enabled": "kubernetes.kubeVip.mode",
    "kube_vip_interface": "kubernetes.kubeVip.interface",
    "kube_vip_bgppeers": "kubernetes.kubeVip.bgpPeers",
    "kube_vip_bgp_routerid": "kubernetes.kubeVip.bgpRouterId",
}
TYPED_VARIABLES: dict[str, str] = {**FIELD_VARIABLES, **COMPOSITE_VARIABLES}

# Kubespray's advice for big clusters (its docs/operations/large-deployments.md), applied by
# deepctl from this many hosts up: the size of that page's own example ("when deploying 200
# nodes, you may want to run ansible with --forks=50, --timeout=600 and define
# retry_stagger: 60"). Below it, Kubespray's defaults serve well and fail faster.
LARGE_CLUSTER_HOSTS = 200
LARGE_CLUSTER_REASON = (f"{LARGE_CLUSTER_HOSTS} hosts or more: Kubespray's advice for large "
                        "deployments")
# name -> (value, why); a typed field or spec.kubesprayVars of the same name wins.
LARGE_CLUSTER_VARS: dict[str, tuple[Any, str]] = {
    "retry_stagger": (60, "retries of failed downloads and pushes spread over 60 s, not 5 s, "
                          "so that hundreds of hosts do not hit one server at once"),
    "download_run_once": (True, "each file and image is downloaded once, on the first control "
                                "plane, and copied to the hosts, instead of by every host "
                                "(registry rate limits); not with spec.offline, whose mirror "
                                "serves every host"),
}


def large_cluster(cluster: Cluster) -> bool:
    return len(cluster.spec.hosts) >= LARGE_CLUSTER_HOSTS


# Why deepctl sets these itself (shown by `deepctl vars`, docs/vars.md); never user-settable.
DEEPCTL_REASONS: dict[str, str] = {
    "kubeconfig_localhost": "deepctl reads the admin kubeconfig Kubespray writes beside the "
                            "inventory, to install addons and check the cluster",
    "helm_enabled": "an enabled addon is installed with helm on the first control plane",
    "containerd_additional_runtimes": "the GPU addon's nvidia runtime survives Kubespray re-runs "
                                      "(docs/addons.md)",
}


def field_value(cluster: Cluster, path: str) -> tuple[Any, bool]:
    """The value at a spec path (``kubernetes.dnsDomain``) and whether the user set it."""
    model: Any = cluster.spec
    explicit = True
    for part in path.split("."):
        name = attribute(type(model), part)
        explicit = explicit and name in model.model_fields_set
        model = getattr(model, name)
        if model is None:
            return None, explicit
    return model, explicit


def attribute(model: type[BaseModel], key: str) -> str:
    """The Python attribute of a model's YAML key (``ipv4`` -> ``ipv4``, ``dnsMode`` ->
    ``dns_mode``)."""
    for name, info in model.model_fields.items():
        if (info.alias or name) == key:
            return name
    raise KeyError(f"{model.__name__} has no key {key!r}")


def plain(value: Any) -> Any:
    """A spec value as Kubespray reads it (networks and addresses as text, models as dicts)."""
    if isinstance(value, IPv4Network | IPv6Network | IPv4Address | IPv6Address):
        return str(value)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def _field_settings(cluster: Cluster) -> Iterator[Setting]:
    for name, path in FIELD_VARIABLES.items():
        value, _ = field_value(cluster, path)
        if value is not None:
            yield Setting(name, plain(value), "field", f"spec.{path}")


def _calico(cluster: Cluster) -> Iterator[Setting]:
    calico = cluster.spec.kubernetes.calico
    if calico.encapsulation is None:
        return
    on = "CrossSubnet" if calico.cross_subnet else "Always"
    modes = {"vxlan": (on, "Never"), "ipip": ("Never", on), "none": ("Never", "Never")}
    vxlan, ipip = modes[calico.encapsulation]
    source = "spec.kubernetes.calico.encapsulation"
    yield Setting("calico_vxlan_mode", vxlan, "field", source)
    yield Setting("calico_ipip_mode", ipip, "field", source)


def _proxy_replacement(cluster: Cluster) -> Iterator[Setting]:
    k8s = cluster.spec.kubernetes
    if k8s.kube_proxy_replacement is None:
        return
    source = "spec.kubernetes.kubeProxyReplacement"
    if k8s.network_plugin == "cilium":
        yield Setting("cilium_kube_proxy_replacement", k8s.kube_proxy_replacement, "field", source)
    elif k8s.network_plugin == "kube-router":
        yield Setting("kube_router_run_service_proxy", k8s.kube_proxy_replacement, "field", source)


def _load_balancers(cluster: Cluster) -> Iterator[Setting]:
    lb = cluster.spec.kubernetes.api_server_load_balancer
    if lb is not None:
        yield Setting("loadbalancer_apiserver", {"address": lb.address, "port": lb.port}, "field",
                      "spec.kubernetes.apiServerLoadBalancer")
    vip = cluster.spec.kubernetes.kube_vip
    if vip is None:
        return
    src = "spec.kubernetes.kubeVip"
    # Kubespray's kube-vip guide: the API is reached through the VIP, as an external balancer.
    yield Setting("loadbalancer_apiserver", {"address": vip.address, "port": KUBE_APISERVER_PORT},
                  "field", f"{src}.address")
    yield Setting("kube_vip_enabled", True, "field", src)
    yield Setting("kube_vip_controlplane_enabled", True, "field", src)
    yield Setting("kube_vip_address", vip.address, "field", f"{src}.address")
    yield Setting("kube_vip_arp_enabled", vip.mode == "arp", "field", f"{src}.mode")
    yield Setting("kube_vip_bgp_enabled", vip.mode == "bgp", "field", f"{src}.mode")
    for name, value, path in (("kube_vip_interface", vip.interface, "interface"),
                              ("kube_vip_bgppeers", vip.bgp_peers, "bgpPeers"),
                              ("kube_vip_bgp_routerid", vip.bgp_router_id, "bgpRouterId")):
        if value is not None:
            yield Setting(name, value, "field", f"{src}.{path}")


def _derived(cluster: Cluster, needs_helm: bool, extra: dict[str, Any]) -> Iterator[Setting]:
    yield Setting("kubeconfig_localhost", True, "derived", DEEPCTL_REASONS["kubeconfig_localhost"])
    if cluster.spec.kubernetes.helm is None and needs_helm:
        yield Setting("helm_enabled", True, "derived", DEEPCTL_REASONS["helm_enabled"])
    for name, value in extra.items():
        yield Setting(name, value, "derived", DEEPCTL_REASONS.get(name, "deepctl"))
    if large_cluster(cluster):
        for name, (value, why) in LARGE_CLUSTER_VARS.items():
            if name in cluster.spec.kubespray_vars:
                continue  # the user's value wins (written last, shown as kubesprayVars)
            if name == "download_run_once" and cluster.spec.offline is not None:
                continue
            yield Setting(name, value, "derived", f"{LARGE_CLUSTER_REASON}: {why}")


def _registry_auth(cluster: Cluster) -> Iterator[Setting]:
    auth = cluster.spec.kubernetes.containerd.registry_auth
    if auth is None:
        return
    # The password is read by Ansible on this machine, from the file, when Kubespray renders
    # containerd's config: it is never in the inventory, a log or a command line.
    value = [{"registry": a.registry, "username": a.username,
              "password": f"{{{{ lookup('file', '{a.password_file}') }}}}"} for a in auth]
    yield Setting("containerd_registry_auth", value, "field",
                  "spec.kubernetes.containerd.registryAuth")


GENERATORS: tuple[Callable[[Cluster], Iterator[Setting]], ...] = (
    _field_settings, _calico, _proxy_replacement, _load_balancers, _registry_auth,
)


def cluster_settings(
    cluster: Cluster, *, needs_helm: bool = False, extra: dict[str, Any] | None = None
) -> list[Setting]:
    """Every cluster-wide Kubespray variable deepctl writes, in file order.

    A typed variable the user gives as a template in kubesprayVars (``dns_domain:
    "{{ cluster_name }}"``) is left to that template when its field was not set explicitly.
    kubesprayVars entries themselves come last, as they are written last.
    """
    templated = templated_overrides(cluster)
    out = [s for gen in GENERATORS for s in gen(cluster) if s.name not in templated]
    out += list(_derived(cluster, needs_helm, extra or {}))
    out += [Setting(name, value, "kubesprayVars", f"spec.kubesprayVars.{name}")
            for name, value in cluster.spec.kubespray_vars.items()]
    return out


def is_template(value: Any) -> bool:
    """True when an Ansible value holds Jinja (anywhere inside lists and mappings)."""
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, dict):
        return any(is_template(k) or is_template(v) for k, v in value.items())
    if isinstance(value, list):
        return any(is_template(v) for v in value)
    return False


def templated_overrides(cluster: Cluster) -> set[str]:
    """Typed variables kubesprayVars gives as templates, whose fields the user left unset."""
    out = set()
    for name, value in cluster.spec.kubespray_vars.items():
        path = TYPED_VARIABLES.get(name)
        if path is not None and is_template(value) and not field_value(cluster, path)[1]:
            out.add(name)
    return out
