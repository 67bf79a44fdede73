"""The ``spec.kubernetes`` and ``spec.os`` models: the cluster Kubespray builds.

The core fields (version, network plugin, subnets...) default to Kubespray's own defaults;
every optional Kubespray field (:mod:`deepctl.clusterspec.kubespray_fields`) defaults to ``None``:
unset, deepctl writes nothing. Re-exported by :mod:`deepctl.clusterspec.models`.
"""

from __future__ import annotations

from ipaddress import IPv4Network
from typing import Literal

from pydantic import Field, field_validator

from deepctl.clusterspec.base import SpecModel
from deepctl.clusterspec.kubespray_fields import (
    CalicoConfig,
    ContainerdConfig,
    CrioConfig,
    DnsMode,
    DualStack,
    EtcdConfig,
    KeyAlgorithm,
    KubeVip,
    LocalApiServerLoadBalancer,
    NodeLocalDns,
    NtpConfig,
    ResolvConfMode,
    SelinuxState,
)
from deepctl.clusterspec.syntax import dns_domain_problem

DEFAULT_KUBE_VERSION = "1.35.4"

# Kubespray v2.31.0 validate_inventory's list of supported network plugins.
NetworkPlugin = Literal[
    "calico", "cilium", "flannel", "kube-ovn", "kube-router", "macvlan", "cni", "custom_cni", "none"
]
ProxyMode = Literal["ipvs", "iptables", "nftables"]
ContainerRuntime = Literal["containerd", "crio", "docker"]


class ApiServerLoadBalancer(SpecModel):
    """An external load balancer in front of the Kubernetes API (HA control planes)."""

    address: str = Field(description="IP address or DNS name of the load balancer.")
    port: int = Field(6443, ge=1, le=65535, description="Port of the load balancer.")


class KubernetesConfig(SpecModel):
    """The Kubernetes cluster Kubespray builds."""

    version: str = Field(
        DEFAULT_KUBE_VERSION, description="Kubernetes version; one the pinned Kubespray supports."
    )
    network_plugin: NetworkPlugin = Field("calico", description="CNI plugin (kube_network_plugin).")
    pod_subnet: IPv4Network = Field(IPv4Network("10.233.64.0/18"), description="kube_pods_subnet.")
    service_subnet: IPv4Network = Field(
        IPv4Network("10.233.0.0/18"), description="kube_service_addresses."
    )
    node_prefix: int = Field(
        24, ge=1, le=32, description="Size of each node's pod block (kube_network_node_prefix)."
    )
    proxy_mode: ProxyMode = Field("ipvs", description="kube-proxy mode.")
    container_runtime: ContainerRuntime = Field(
        "containerd", description="container_manager: containerd, crio or docker (cri-dockerd)."
    )
    dns_domain: str = Field(
        "cluster.local", description="Cluster DNS domain: a DNS name (lower-case labels)."
    )
    api_server_load_balancer: ApiServerLoadBalancer | None = Field(
        None,
        description="External API load balancer. Without one, every node reaches the API "
        "through Kubespray's local proxy (localApiServerLoadBalancer).",
    )
    local_api_server_load_balancer: LocalApiServerLoadBalancer = Field(
        default_factory=LocalApiServerLoadBalancer,
        description="Kubespray's local API proxy on every node.",
    )
    auto_renew_certificates: bool | None = Field(
        None, description="Renew control-plane certificates monthly (auto_renew_certificates)."
    )
    certificate_key_algorithm: KeyAlgorithm | None = Field(
        None, description="kube_asymmetric_encryption_algorithm (Kubespray: RSA-2048)."
    )
    node_local_dns: NodeLocalDns = Field(
        default_factory=NodeLocalDns, description="NodeLocal DNSCache."
    )
    dns_mode: DnsMode | None = Field(None, description="dns_mode (Kubespray: coredns).")
    resolv_conf_mode: ResolvConfMode | None = Field(
        None, description="How hosts resolve cluster names (resolvconf_mode; host_resolvconf)."
    )
    etcd: EtcdConfig = Field(default_factory=EtcdConfig, description="etcd.")
    containerd: ContainerdConfig = Field(
        default_factory=ContainerdConfig, description="containerd options."
    )
    crio: CrioConfig = Field(default_factory=CrioConfig, description="CRI-O options.")
    calico: CalicoConfig = Field(default_factory=CalicoConfig, description="Calico options.")
    kube_proxy_replacement: bool | None = Field(
        None,
        description="The network plugin replaces kube-proxy: cilium "
        "(cilium_kube_proxy_replacement) or kube-router (kube_router_run_service_proxy).",
    )
    network_policy: bool | None = Field(
        None, description="Enforce NetworkPolicies (enable_network_policy; Kubespray: true)."
    )
    feature_gates: list[str] | None = Field(
        None, description='Kubernetes feature gates, "Name=true" (kube_feature_gates).'
    )
    metrics_server: bool | None = Field(None, description="metrics_server_enabled.")
    helm: bool | None = Field(
        None,
        description="Install helm on the control plane (helm_enabled). Default: on when an "
        "addon needs it.",
    )
    file_owner: str | None = Field(
        None, description="Owner of Kubernetes files on the hosts (kube_owner; Kubespray: kube)."
    )
    dual_stack: DualStack = Field(default_factory=DualStack, description="IPv6 and dual stack.")
    strict_arp: bool | None = Field(
        None, description="kube-proxy strict ARP (kube_proxy_strict_arp), for kube-vip and MetalLB."
    )
    kube_vip: KubeVip | None = Field(
        None, description="kube-vip control-plane VIP (instead of apiServerLoadBalancer)."
    )

    @field_validator("dns_domain")
    @classmethod
    def _dns_domain(cls, value: str) -> str:
        problem = dns_domain_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value


class OsConfig(SpecModel):
    """Operating-system settings Kubespray applies to every host."""

    ntp: NtpConfig = Field(default_factory=NtpConfig, description="Time synchronisation.")
    selinux: SelinuxState | None = Field(
        None, description="preinstall_selinux_state (Kubespray: permissive)."
    )
