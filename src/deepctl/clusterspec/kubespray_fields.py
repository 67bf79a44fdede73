"""Typed spec fields for the Kubespray settings its users set most (spec.kubernetes.*).

Every field here defaults to ``None``: unset, deepctl writes nothing and Kubespray's own
default applies (``deepctl vars`` shows it). Which Kubespray variable each field writes is
declared once, in :mod:`deepctl.clusterspec.kubespray_map`.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Address, IPv6Network
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator

from deepctl.clusterspec.base import SpecModel


def _ipv6_network(text: str) -> str:
    """An IPv6 network, kept as written (Kubespray reads the text)."""
    try:
        IPv6Network(text)
    except ValueError as exc:
        raise ValueError(f"not an IPv6 network: {exc}") from None
    return text


IPv6NetworkText = Annotated[str, AfterValidator(_ipv6_network)]
EtcdDeploymentType = Literal["host", "kubeadm", "docker"]
LocalLoadBalancerType = Literal["nginx", "haproxy"]
DnsMode = Literal["coredns", "coredns_dual", "manual", "none"]
ResolvConfMode = Literal["host_resolvconf", "docker_dns", "none"]
CalicoEncapsulation = Literal["vxlan", "ipip", "none"]
CalicoBackend = Literal["bird", "vxlan", "none"]
CalicoDatastore = Literal["kdd", "etcd"]
KeyAlgorithm = Literal["RSA-2048", "RSA-3072", "RSA-4096", "ECDSA-P256"]
SelinuxState = Literal["enforcing", "permissive", "disabled"]
MirrorCapability = Literal["pull", "resolve", "push"]


class NodeLocalDns(SpecModel):
    """NodeLocal DNSCache on every node."""

    enabled: bool | None = Field(None, description="enable_nodelocaldns (Kubespray: true).")
    address: IPv4Address | None = Field(
        None, description="Link-local address it listens on (nodelocaldns_ip; 169.254.25.10)."
    )
    secondary: bool | None = Field(
        None, description="A second instance for high availability (enable_nodelocaldns_secondary)."
    )


class LocalApiServerLoadBalancer(SpecModel):
    """Kubespray's API proxy on every node (127.0.0.1), used when there is no external one."""

    enabled: bool | None = Field(
        None,
        description="loadbalancer_apiserver_localhost. Kubespray's default: on unless "
        "apiServerLoadBalancer is set.",
    )
    type: LocalLoadBalancerType | None = Field(
        None, description="nginx or haproxy (loadbalancer_apiserver_type; Kubespray: nginx)."
    )


class EtcdConfig(SpecModel):
    """How etcd runs."""

    deployment_type: EtcdDeploymentType | None = Field(
        None,
        description="host (systemd service), kubeadm (static pods) or docker (needs "
        "containerRuntime: docker); etcd_deployment_type, Kubespray: host.",
    )


def _pull_resolve() -> list[MirrorCapability]:
    return ["pull", "resolve"]


class RegistryMirror(SpecModel):
    """One mirror of a registry (a [host] of containerd's hosts.toml)."""

    host: str = Field(description="URL of the mirror, e.g. https://mirror.gcr.io.")
    capabilities: list[MirrorCapability] = Field(
        default_factory=_pull_resolve, description="What the mirror serves."
    )
    skip_verify: bool | None = Field(
        None, description="Do not verify the mirror's TLS certificate (Kubespray: false)."
    )
    override_path: bool | None = Field(
        None, description="The host URL holds the full API path (Kubespray: false)."
    )
    ca: list[str] | None = Field(None, description="CA certificate files on the nodes.")


class RegistryMirrors(SpecModel):
    """Mirrors of one registry (containerd hosts.toml)."""

    prefix: str = Field(description="The registry mirrored, e.g. docker.io.")
    server: str | None = Field(None, description="The registry's own URL (https://PREFIX).")
    mirrors: list[RegistryMirror] = Field(min_length=1, description="Tried in order.")


SAFE_PATH = re.compile(r"^/[A-Za-z0-9_./@+-]+\Z")


class RegistryAuth(SpecModel):
    """Credentials for one registry; the password stays in a file on this machine."""

    registry: str = Field(description="host[:port] of the registry.")
    username: str = Field(description="User name.")
    password_file: str = Field(
        description="Absolute path, on the machine running deepctl, of a file holding the "
        "password. Ansible reads it when Kubespray writes containerd's config; the password is "
        "never written into the inventory.",
    )

    @field_validator("password_file")
    @classmethod
    def _safe_path(cls, value: str) -> str:
        if not SAFE_PATH.match(value) or ".." in value.split("/"):
            raise ValueError("must be an absolute path of letters, digits and _ . / @ + -")
        return value


class ContainerdConfig(SpecModel):
    """containerd options (containerRuntime: containerd)."""

    static_binary: bool | None = Field(
        None, description="Install containerd's static build (containerd_static_binary)."
    )
    registry_mirrors: list[RegistryMirrors] | None = Field(
        None, description="containerd_registries_mirrors (Kubespray: docker.io itself)."
    )
    registry_auth: list[RegistryAuth] | None = Field(
        None, description="containerd_registry_auth: registry credentials."
    )


class CrioMirror(SpecModel):
    """One mirror of a CRI-O registry."""

    location: str = Field(description="host[:port] of the mirror.")
    insecure: bool | None = Field(None, description="Plain HTTP or unverified TLS.")


class CrioRegistry(SpecModel):
    """One registry of CRI-O's registries.conf."""

    prefix: str | None = Field(None, description="Image prefix it serves (default: location).")
    location: str = Field(description="The registry, e.g. registry-1.docker.io.")
    insecure: bool | None = Field(None, description="Plain HTTP or unverified TLS.")
    blocked: bool | None = Field(None, description="Refuse pulls from it.")
    unqualified: bool = Field(False, description="Search it for unqualified image names.")
    mirrors: list[CrioMirror] | None = Field(None, description="Tried before the registry.")


class CrioConfig(SpecModel):
    """CRI-O options (containerRuntime: crio)."""

    registries: list[CrioRegistry] | None = Field(
        None, description="crio_registries (Kubespray: none)."
    )


class CalicoConfig(SpecModel):
    """Calico options (networkPlugin: calico)."""

    encapsulation: CalicoEncapsulation | None = Field(
        None,
        description="vxlan, ipip or none: writes calico_vxlan_mode and calico_ipip_mode "
        "(Kubespray: vxlan).",
    )
    cross_subnet: bool | None = Field(
        None, description="Encapsulate only between subnets (mode CrossSubnet instead of Always)."
    )
    network_backend: CalicoBackend | None = Field(
        None, description="calico_network_backend (Kubespray: vxlan; bird for BGP/ipip)."
    )
    block_size: int | None = Field(
        None, ge=20, le=32, description="Per-node IPv4 block size (calico_pool_blocksize; 26)."
    )
    bpf: bool | None = Field(None, description="eBPF dataplane (calico_bpf_enabled).")
    wireguard: bool | None = Field(
        None, description="Encrypt pod traffic with WireGuard (calico_wireguard_enabled)."
    )
    datastore: CalicoDatastore | None = Field(
        None, description="kdd (Kubernetes API) or etcd (calico_datastore; Kubespray: kdd)."
    )


class NtpConfig(SpecModel):
    """Time synchronisation on the hosts (Kubespray's preinstall role)."""

    enabled: bool | None = Field(None, description="ntp_enabled (Kubespray: false).")
    package: Literal["ntp", "ntpsec", "chrony"] | None = Field(
        None, description="ntp_package (Kubespray: by distribution)."
    )
    servers: list[str] | None = Field(None, description="ntp_servers, e.g. '0.pool.ntp.org iburst'.")
    timezone: str | None = Field(None, description="ntp_timezone, e.g. Etc/UTC.")
    manage_config: bool | None = Field(None, description="ntp_manage_config.")


class DualStack(SpecModel):
    """IPv4 and IPv6 (dual stack), or IPv6 only."""

    ipv4: bool | None = Field(None, description="ipv4_stack (Kubespray: true).")
    ipv6: bool | None = Field(None, description="ipv6_stack (Kubespray: false).")
    pod_subnet: IPv6NetworkText | None = Field(None, description="kube_pods_subnet_ipv6.")
    service_subnet: IPv6NetworkText | None = Field(
        None, description="kube_service_addresses_ipv6."
    )
    node_prefix: int | None = Field(
        None, ge=64, le=128, description="kube_network_node_prefix_ipv6 (Kubespray: 120)."
    )


class KubeVip(SpecModel):
    """kube-vip: a virtual IP for an HA control plane without an external load balancer."""

    address: str = Field(description="The virtual IP (kube_vip_address).")
    mode: Literal["arp", "bgp"] = Field("arp", description="How the VIP is announced.")
    interface: str | None = Field(None, description="kube_vip_interface (default: detected).")
    bgp_peers: list[str] | None = Field(
        None, description="kube_vip_bgppeers entries 'address:as::false' (mode: bgp)."
    )
    bgp_router_id: str | None = Field(None, description="kube_vip_bgp_routerid (mode: bgp).")
