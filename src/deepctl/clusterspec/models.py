"""Pydantic models of the cluster spec (``apiVersion: deepctl/v1alpha1``, ``kind: Cluster``).

Field names are snake_case in Python and camelCase in YAML. Unknown keys are errors.
These models are the single source of the spec reference (``docs/spec.md``) and of the
JSON Schema printed by ``deepctl schema``.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_KUBE_VERSION",
    "ApiServerLoadBalancer",
    "Cluster",
    "ContainerRuntime",
    "Host",
    "KubernetesConfig",
    "NetworkPlugin",
    "OsConfig",
    "ProxyMode",
]

import re
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from deepctl import KUBESPRAY_TAG
from deepctl.clusterspec.base import SpecModel
from deepctl.clusterspec.kubernetes import (
    DEFAULT_KUBE_VERSION,
    ApiServerLoadBalancer,
    ContainerRuntime,
    KubernetesConfig,
    NetworkPlugin,
    OsConfig,
    ProxyMode,
)
from deepctl.clusterspec.offline import Offline
from deepctl.clusterspec.syntax import shown, user_problem
from deepctl.clusterspec.verify import VerifyConfig

API_VERSION: Literal["deepctl/v1alpha1"] = "deepctl/v1alpha1"
Role = Literal["control-plane", "etcd", "worker"]
MigStrategy = Literal["none", "single", "mixed"]
AnsibleStrategy = Literal["linear", "free", "mitogen"]

TAINT = re.compile(
    r"^(?P<key>[A-Za-z0-9]([-A-Za-z0-9_./]{0,251}[A-Za-z0-9])?)"
    r"(=(?P<value>[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?)?"
    r":(?P<effect>NoSchedule|PreferNoSchedule|NoExecute)\Z"
)


def _posix_user(value: str | None) -> str | None:
    problem = None if value is None else user_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


class KubesprayConfig(SpecModel):
    """Which Kubespray release deepctl drives, and where its tree is."""

    version: str = Field(KUBESPRAY_TAG, description="Kubespray release tag deepctl is pinned to.")
    path: Path | None = Field(
        None,
        description="A local Kubespray tree to use instead of vendor/kubespray or the cache; "
        "relative paths are relative to the spec file.",
    )


class BastionConfig(SpecModel):
    """A jump host every SSH connection goes through."""

    address: str = Field(description="IP address or DNS name of the bastion.")
    user: str | None = Field(None, description="Defaults to spec.ssh.user (a POSIX user name).")
    port: int = Field(22, ge=1, le=65535, description="SSH port of the bastion.")
    identity_file: Path | None = Field(None, description="Defaults to spec.ssh.identityFile.")

    @field_validator("user")
    @classmethod
    def _user(cls, value: str | None) -> str | None:
        return _posix_user(value)


class SSHConfig(SpecModel):
    """How deepctl and Ansible reach the hosts."""

    user: str = Field("ubuntu", description="Login user on every host (a POSIX user name).")
    port: int = Field(22, ge=1, le=65535, description="SSH port on every host.")
    identity_file: Path = Field(Path("~/.ssh/id_ed25519"), description="Private key file.")
    become: bool = Field(True, description="Use sudo on the hosts.")
    bastion: BastionConfig | None = Field(None, description="Jump host for every connection.")

    @field_validator("user")
    @classmethod
    def _user(cls, value: str | None) -> str | None:
        return _posix_user(value)


class HostSSHConfig(SpecModel):
    """Per-host overrides of spec.ssh."""

    user: str | None = Field(None, description="Login user; defaults to spec.ssh.user.")
    port: int | None = Field(None, ge=1, le=65535, description="Defaults to spec.ssh.port.")
    identity_file: Path | None = Field(None, description="Defaults to spec.ssh.identityFile.")

    @field_validator("user")
    @classmethod
    def _user(cls, value: str | None) -> str | None:
        return _posix_user(value)


class ExecutorConfig(HostSSHConfig):
    """A machine next to the cluster that runs Ansible for deepctl (docs/executor.md)."""

    address: str = Field(description="Where deepctl reaches the executor (IP or DNS name).")
    bastion: BastionConfig | None = Field(
        None, description="Jump host to the executor only; spec.ssh.bastion still applies "
        "from the executor to the hosts.",
    )


class Host(SpecModel):
    """One machine of the cluster."""

    name: str = Field(description="Node name: a lower-case RFC 1123 label, or such labels "
                      "joined by dots (gpu01.lab); at most 63 characters.")
    address: str = Field(description="Where deepctl and Ansible reach the host (IP or DNS name).")
    internal_address: IPv4Address | None = Field(
        None, description="Cluster-internal IP (Kubespray `ip`); defaults to the address."
    )
    internal_address6: IPv6Address | None = Field(
        None, description="Cluster-internal IPv6 address (Kubespray `ip6` and `access_ip6`); "
        "dual stack or IPv6 only.",
    )
    roles: list[Role] = Field(min_length=1, description="control-plane, etcd and/or worker.")
    gpu: bool = Field(False, description="True: this host is expected to have NVIDIA GPUs.")
    labels: dict[str, str] = Field(default_factory=dict, description="Kubernetes node labels.")
    taints: list[str] = Field(default_factory=list, description='"key=value:Effect" taints.')
    ssh: HostSSHConfig = Field(
        default_factory=HostSSHConfig, description="Per-host overrides of spec.ssh."
    )
    kubespray_vars: dict[str, Any] = Field(
        default_factory=dict,
        description="Raw Kubespray variables of this host only (hosts.yaml); they win over "
        "spec.kubesprayVars. Values are Ansible templates.",
    )
    ceph_devices: list[str] = Field(
        default_factory=list,
        description="Raw, empty block devices (e.g. /dev/nvme1n1) Rook Ceph may use on this host "
        "(addons.storage.ceph).",
    )

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
                    f"taint {shown(taint)} is not of the form key=value:Effect "
                    "(Effect: NoSchedule, PreferNoSchedule or NoExecute)"
                )
        return taints


class GpuDriver(SpecModel):
    """The NVIDIA driver on GPU hosts."""

    install: bool = Field(
        False,
        description="True: the GPU Operator installs the driver. False: drivers are "
        "preinstalled on the hosts (e.g. DGX OS).",
    )
    version: str | None = Field(None, description="Driver version when install is true.")


class MigConfig(SpecModel):
    """Multi-Instance GPU (MIG) as the GPU Operator exposes it."""

    strategy: MigStrategy = Field("none", description="GPU Operator MIG strategy.")
    manager: bool | None = Field(
        None, description="Run the GPU Operator's MIG manager; default: on when strategy is not none."
    )


class GpuAddon(SpecModel):
    """NVIDIA GPU Operator."""

    enabled: bool | None = Field(
        None,
        description="Install the GPU Operator. Unset: on exactly when a host has gpu: true, so "
        "a CPU-only spec installs no GPU Operator.",
    )
    operator_version: str = Field("v26.3.3", description="GPU Operator Helm chart version.")
    driver: GpuDriver = Field(default_factory=GpuDriver, description="NVIDIA driver.")
    mig: MigConfig = Field(default_factory=MigConfig, description="MIG settings.")
    time_slicing_replicas: int | None = Field(
        None, ge=2, le=64,
        description="Share each GPU between this many pods (device plugin time-slicing); "
        "unset: no sharing.",
    )


class MonitoringAddon(SpecModel):
    """kube-prometheus-stack with GPU (DCGM) metrics."""

    enabled: bool = Field(True, description="Install the monitoring stack.")
    retention: str = Field(
        "15d", pattern=r"^[0-9]+(ms|s|m|h|d|w|y)$", description="How long Prometheus keeps data."
    )
    storage_size: str = Field(
        "50Gi", pattern=r"^[0-9]+(Ki|Mi|Gi|Ti|Pi|K|M|G|T|P)?$",
        description="Size of the Prometheus volume (a Kubernetes quantity).",
    )
    chart_version: str = Field(
        "87.5.1", description="kube-prometheus-stack chart version (prometheus-community)."
    )


class LoggingAddon(SpecModel):
    """Loki and Alloy."""

    enabled: bool = Field(False, description="Install Loki and Alloy.")
    storage_size: str = Field(
        "50Gi", pattern=r"^[0-9]+(Ki|Mi|Gi|Ti|Pi|K|M|G|T|P)?$",
        description="Size of Loki's volume (filesystem storage, single binary).",
    )
    loki_chart_version: str = Field("18.11.0", description="loki chart version (grafana-community).")
    alloy_chart_version: str = Field("1.11.1", description="alloy chart version (grafana).")


class NfsStorage(SpecModel):
    """An NFS export on one of the hosts, with a dynamic provisioner."""

    enabled: bool = Field(False, description="Serve NFS and install its provisioner.")
    server: str | None = Field(
        None, description="Name of the host (from spec.hosts) that serves NFS."
    )
    path: str = Field("/export/deepctl", pattern=r"^/", description="Exported directory.")
    default_class: bool = Field(True, description="Make it the default StorageClass.")
    external_server: str | None = Field(
        None,
        description="Address of an NFS server deepctl does not manage (instead of server); "
        "path must already be exported to the nodes.",
    )
    chart_version: str = Field("4.0.18", description="nfs-subdir-external-provisioner chart version.")


class CephStorage(SpecModel):
    """Ceph storage with Rook."""

    enabled: bool = Field(False, description="Install Rook Ceph.")
    chart_version: str = Field("v1.20.6", description="rook-ceph and rook-ceph-cluster chart version.")


class StorageAddon(SpecModel):
    """Persistent storage for the cluster."""

    nfs: NfsStorage = Field(default_factory=NfsStorage, description="NFS storage.")
    ceph: CephStorage = Field(default_factory=CephStorage, description="Ceph storage.")


class SlurmAccounting(SpecModel):
    """Slurm accounting (slurmdbd) on a MySQL/MariaDB database you run."""

    enabled: bool = Field(False, description="Run slurmdbd and record jobs (sacct, fair share).")
    storage_host: str | None = Field(
        None, description="Address of the MySQL/MariaDB server (required when enabled)."
    )
    storage_port: int = Field(3306, ge=1, le=65535, description="Port of the database server.")
    database: str = Field("slurm_acct_db", description="Database slurmdbd writes into.")
    user: str = Field("slurm", description="Database user slurmdbd connects as.")
    password_secret: str = Field(
        "slurm-accounting-db",
        pattern=r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$",
        description="Name of a Secret you create in namespace slurm, key `password`: the "
        "database user's password (deepctl never reads it).",
    )


class SlurmLogin(SpecModel):
    """The Slurm login node (a LoginSet: sackd, sshd, sssd) users submit jobs from."""

    service_type: Literal["ClusterIP", "NodePort", "LoadBalancer"] = Field(
        "ClusterIP", description="How the login node's SSH Service is exposed."
    )
    ssh_authorized_keys: list[str] = Field(
        default_factory=list,
        description="SSH public keys allowed to log in as root on the login node.",
    )


class SlurmAddon(SpecModel):
    """Slurm on Kubernetes (Slinky): partitions and GPUs (GRES) from the hosts preflight saw."""

    enabled: bool = Field(False, description="Install the Slurm operator and a cluster.")
    chart_version: str = Field(
        "1.2.1", description="Slinky slurm-operator-crds, slurm-operator and slurm chart version."
    )
    accounting: SlurmAccounting = Field(
        default_factory=SlurmAccounting, description="Job accounting (optional)."
    )
    login: SlurmLogin = Field(default_factory=SlurmLogin, description="The login node.")


class JupyterhubAddon(SpecModel):
    """JupyterHub with GPU profiles."""

    enabled: bool = Field(False, description="Install JupyterHub.")
    chart_version: str = Field("4.4.0", description="zero-to-jupyterhub chart version.")
    admin_users: list[str] = Field(
        default_factory=lambda: ["admin"],
        description="JupyterHub admins (NativeAuthenticator: sign up as one of them first).",
    )
    gpu_profiles: list[int] = Field(
        default_factory=lambda: [0, 1],
        description="Server profiles offered, by number of GPUs each (0 = CPU only).",
    )
    storage_size: str = Field(
        "10Gi", pattern=r"^[0-9]+(Ki|Mi|Gi|Ti|Pi|K|M|G|T|P)?$",
        description="Each user's home volume, on the default StorageClass.",
    )
    service_type: Literal["ClusterIP", "NodePort", "LoadBalancer"] = Field(
        "ClusterIP", description="How the hub's proxy-public Service is exposed."
    )


class Addons(SpecModel):
    """The platform installed on top of Kubernetes, after Kubespray."""

    gpu: GpuAddon = Field(default_factory=GpuAddon, description="NVIDIA GPU Operator.")
    monitoring: MonitoringAddon = Field(default_factory=MonitoringAddon, description="Metrics.")
    logging: LoggingAddon = Field(default_factory=LoggingAddon, description="Logs.")
    storage: StorageAddon = Field(default_factory=StorageAddon, description="Storage.")
    slurm: SlurmAddon = Field(default_factory=SlurmAddon, description="Slurm.")
    jupyterhub: JupyterhubAddon = Field(default_factory=JupyterhubAddon, description="Notebooks.")


class AnsibleConfig(SpecModel):
    """How deepctl runs Ansible."""

    strategy: AnsibleStrategy = Field(
        "linear", description="Ansible strategy; mitogen is experimental with Kubespray."
    )
    forks: int | None = Field(None, ge=1, le=1000, description="Default: sized to the host count.")
    timeout: int | None = Field(
        None, ge=1, le=3600,
        description="Ansible's connection timeout, seconds. Default: 60; 600 from 200 hosts up.",
    )


class ClusterSpec(SpecModel):
    """What the cluster is made of and what runs on it."""

    kubespray: KubesprayConfig = Field(default_factory=KubesprayConfig, description="Kubespray.")
    kubernetes: KubernetesConfig = Field(
        default_factory=KubernetesConfig, description="Kubernetes settings."
    )
    ssh: SSHConfig = Field(default_factory=SSHConfig, description="SSH access to the hosts.")
    hosts: list[Host] = Field(min_length=1, description="The machines; at least one.")
    addons: Addons = Field(default_factory=Addons, description="Platform addons.")
    ansible: AnsibleConfig = Field(default_factory=AnsibleConfig, description="Ansible runs.")
    offline: Offline | None = Field(None, description="Air-gapped install: mirrors (docs/airgap.md).")
    executor: ExecutorConfig | None = Field(
        None, description="Run Ansible on this machine instead of here (docs/executor.md)."
    )
    executors: list[ExecutorConfig] | None = Field(
        None, min_length=1,
        description="Several executors, each validated like spec.executor (not both, and "
        "no executor twice). The first is the primary: it runs every playbook that is not "
        "split, and the control-plane and etcd part of one that is; add-node's facts and "
        "upgrade split their worker hosts into one --limit slice per executor, run at the "
        "same time (docs/executor.md).",
    )
    os: OsConfig = Field(default_factory=OsConfig, description="Host operating-system settings.")
    verify: VerifyConfig = Field(
        default_factory=VerifyConfig, description="deepctl verify's level and expected figures."
    )
    kubespray_vars: dict[str, Any] = Field(
        default_factory=dict,
        description="Raw Kubespray variables, merged last. Values are Ansible templates.",
    )

    @model_validator(mode="after")
    def _gpu_addon_default(self) -> ClusterSpec:
        """addons.gpu.enabled unset: on exactly when a host has GPUs."""
        if self.addons.gpu.enabled is None:
            self.addons.gpu.enabled = any(h.gpu for h in self.hosts)
        return self


class Metadata(SpecModel):
    """Identifies the cluster."""

    name: str = Field(description="Cluster name: a lower-case RFC 1123 label.")


class Cluster(SpecModel):
    """A deepctl cluster spec."""

    api_version: Literal["deepctl/v1alpha1"] = Field(API_VERSION, description="Spec format version.")
    kind: Literal["Cluster"] = Field("Cluster", description="Always Cluster.")
    metadata: Metadata = Field(description="Name of the cluster.")
    spec: ClusterSpec = Field(description="The cluster itself.")

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
