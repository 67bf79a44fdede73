"""Pydantic models of the cluster spec (``apiVersion: deepctl/v1alpha1``, ``kind: Cluster``).

Field names are snake_case in Python and camelCase in YAML. Unknown keys are errors.
These models are the single source of the spec reference (``docs/spec.md``) and of the
JSON Schema printed by ``deepctl schema``.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from deepctl import KUBESPRAY_TAG

API_VERSION: Literal["deepctl/v1alpha1"] = "deepctl/v1alpha1"
DEFAULT_KUBE_VERSION = "1.35.4"

# Kubespray v2.31.0 validate_inventory's list of supported network plugins.
NetworkPlugin = Literal[
    "calico", "cilium", "flannel", "kube-ovn", "kube-router", "macvlan", "cni", "custom_cni", "none"
]
ProxyMode = Literal["ipvs", "iptables", "nftables"]
ContainerRuntime = Literal["containerd", "crio"]
Role = Literal["control-plane", "etcd", "worker"]
MigStrategy = Literal["none", "single", "mixed"]
AnsibleStrategy = Literal["linear", "free", "mitogen"]

RFC1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
TAINT = re.compile(
    r"^(?P<key>[A-Za-z0-9]([-A-Za-z0-9_./]{0,251}[A-Za-z0-9])?)"
    r"(=(?P<value>[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?)?"
    r":(?P<effect>NoSchedule|PreferNoSchedule|NoExecute)$"
)


class SpecModel(BaseModel):
    """Base of every spec model: camelCase keys, unknown keys rejected."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        validate_default=True,
    )


class KubesprayConfig(SpecModel):
    """Which Kubespray release deepctl drives, and where its tree is."""

    version: str = Field(KUBESPRAY_TAG, description="Kubespray release tag deepctl is pinned to.")
    path: Path | None = Field(
        None,
        description="A local Kubespray tree to use instead of vendor/kubespray or the cache; "
        "relative paths are relative to the spec file.",
    )


class ApiServerLoadBalancer(SpecModel):
    """An external load balancer in front of the Kubernetes API (HA control planes)."""

    address: str = Field(description="IP address or DNS name of the load balancer.")
    port: int = Field(6443, ge=1, le=65535)


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
    container_runtime: ContainerRuntime = Field("containerd", description="container_manager.")
    dns_domain: str = Field("cluster.local", description="Cluster DNS domain.")
    api_server_load_balancer: ApiServerLoadBalancer | None = Field(
        None,
        description="External API load balancer. Without one, an HA control plane uses "
        "Kubespray's local API proxy on every node.",
    )


class BastionConfig(SpecModel):
    """A jump host every SSH connection goes through."""

    address: str
    user: str | None = Field(None, description="Defaults to spec.ssh.user.")
    port: int = Field(22, ge=1, le=65535)
    identity_file: Path | None = Field(None, description="Defaults to spec.ssh.identityFile.")


class SSHConfig(SpecModel):
    """How deepctl and Ansible reach the hosts."""

    user: str = "ubuntu"
    port: int = Field(22, ge=1, le=65535)
    identity_file: Path = Field(Path("~/.ssh/id_ed25519"), description="Private key file.")
    become: bool = Field(True, description="Use sudo on the hosts.")
    bastion: BastionConfig | None = None


class HostSSHConfig(SpecModel):
    """Per-host overrides of spec.ssh."""

    user: str | None = None
    port: int | None = Field(None, ge=1, le=65535)
    identity_file: Path | None = None


class Host(SpecModel):
    """One machine of the cluster."""

    name: str = Field(description="Node name: a lower-case RFC 1123 label.")
    address: str = Field(description="Where deepctl and Ansible reach the host (IP or DNS name).")
    internal_address: IPv4Address | None = Field(
        None, description="Cluster-internal IP (Kubespray `ip`); defaults to the address."
    )
    roles: list[Role] = Field(min_length=1, description="control-plane, etcd and/or worker.")
    gpu: bool = Field(False, description="True: this host is expected to have NVIDIA GPUs.")
    labels: dict[str, str] = Field(default_factory=dict, description="Kubernetes node labels.")
    taints: list[str] = Field(default_factory=list, description='"key=value:Effect" taints.')
    ssh: HostSSHConfig = Field(default_factory=HostSSHConfig)

    @field_validator("roles")
    @classmethod
    def _unique_roles(cls, roles: list[Role]) -> list[Role]:
        if len(set(roles)) != len(roles):
            raise ValueError("roles are listed twice")
        return roles

    @field_validator("taints")
    @classmethod
    def _taint_syntax(cls, taints: list[str]) -> list[str]:
        for taint in taints:
            if not TAINT.match(taint):
                raise ValueError(
                    f"taint {taint!r} is not of the form key=value:Effect "
                    "(Effect: NoSchedule, PreferNoSchedule or NoExecute)"
                )
        return taints


class GpuDriver(SpecModel):
    install: bool = Field(
        False,
        description="True: the GPU Operator installs the driver. False: drivers are "
        "preinstalled on the hosts (e.g. DGX OS).",
    )
    version: str | None = Field(None, description="Driver version when install is true.")


class MigConfig(SpecModel):
    strategy: MigStrategy = "none"


class GpuAddon(SpecModel):
    """NVIDIA GPU Operator."""

    enabled: bool = True
    operator_version: str = "v26.3.3"
    driver: GpuDriver = Field(default_factory=GpuDriver)
    mig: MigConfig = Field(default_factory=MigConfig)


class MonitoringAddon(SpecModel):
    """kube-prometheus-stack with GPU (DCGM) metrics."""

    enabled: bool = True
    retention: str = Field("15d", pattern=r"^[0-9]+(ms|s|m|h|d|w|y)$")
    storage_size: str = Field("50Gi", pattern=r"^[0-9]+(Ki|Mi|Gi|Ti|Pi|K|M|G|T|P)?$")


class LoggingAddon(SpecModel):
    """Loki and Alloy."""

    enabled: bool = False


class NfsStorage(SpecModel):
    enabled: bool = False
    server: str | None = Field(
        None, description="Name of the host (from spec.hosts) that serves NFS."
    )
    path: str = Field("/export/deepctl", pattern=r"^/")
    default_class: bool = True


class CephStorage(SpecModel):
    enabled: bool = False


class StorageAddon(SpecModel):
    nfs: NfsStorage = Field(default_factory=NfsStorage)
    ceph: CephStorage = Field(default_factory=CephStorage)


class SlurmAddon(SpecModel):
    enabled: bool = False


class JupyterhubAddon(SpecModel):
    enabled: bool = False


class Addons(SpecModel):
    gpu: GpuAddon = Field(default_factory=GpuAddon)
    monitoring: MonitoringAddon = Field(default_factory=MonitoringAddon)
    logging: LoggingAddon = Field(default_factory=LoggingAddon)
    storage: StorageAddon = Field(default_factory=StorageAddon)
    slurm: SlurmAddon = Field(default_factory=SlurmAddon)
    jupyterhub: JupyterhubAddon = Field(default_factory=JupyterhubAddon)


class AnsibleConfig(SpecModel):
    """How deepctl runs Ansible."""

    strategy: AnsibleStrategy = Field(
        "linear", description="Ansible strategy; mitogen is experimental with Kubespray."
    )
    forks: int | None = Field(None, ge=1, le=1000, description="Default: sized to the host count.")


class ClusterSpec(SpecModel):
    kubespray: KubesprayConfig = Field(default_factory=KubesprayConfig)
    kubernetes: KubernetesConfig = Field(default_factory=KubernetesConfig)
    ssh: SSHConfig = Field(default_factory=SSHConfig)
    hosts: list[Host] = Field(min_length=1)
    addons: Addons = Field(default_factory=Addons)
    ansible: AnsibleConfig = Field(default_factory=AnsibleConfig)
    kubespray_vars: dict[str, Any] = Field(
        default_factory=dict,
        description="Raw Kubespray variables, merged last. Values are Ansible templates.",
    )


class Metadata(SpecModel):
    name: str = Field(description="Cluster name: a lower-case RFC 1123 label.")


class Cluster(SpecModel):
    """A deepctl cluster spec."""

    api_version: Literal["deepctl/v1alpha1"] = API_VERSION
    kind: Literal["Cluster"] = "Cluster"
    metadata: Metadata
    spec: ClusterSpec

    # Convenience views used everywhere -----------------------------------------------------
    @property
    def name(self) -> str:
        return self.metadata.name

    def hosts_with(self, role: Role) -> list[Host]:
        return [h for h in self.spec.hosts if role in h.roles]

    @property
    def control_plane(self) -> list[Host]:
        return self.hosts_with("control-plane")

    @property
    def etcd(self) -> list[Host]:
        return self.hosts_with("etcd")

    @property
    def workers(self) -> list[Host]:
        return self.hosts_with("worker")

    @property
    def gpu_hosts(self) -> list[Host]:
        return [h for h in self.spec.hosts if h.gpu]

    def host(self, name: str) -> Host | None:
        return next((h for h in self.spec.hosts if h.name == name), None)
