"""The addons deepctl installs after Kubespray, held as data.

An :class:`Addon` is one deploy stage (``gpu``, ``monitoring`` ...). It installs one or more
Helm :class:`Release`\\ s, each from a pinned chart version the spec may override, with values
rendered from ``templates/addons/<addon>/*.yaml.j2``. Which releases of an addon run is
decided by the spec (``storage`` installs NFS and/or Ceph). Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from deepctl.clusterspec.models import Cluster
from deepctl.errors import UsageError


@dataclass(frozen=True)
class Chart:
    """A Helm chart in a repository (``repo_url`` may be an ``oci://`` reference)."""

    repo_name: str
    repo_url: str
    name: str
    default_version: str

    @property
    def oci(self) -> bool:
        return self.repo_url.startswith("oci://")

    @property
    def ref(self) -> str:
        """What ``helm upgrade --install`` is given: ``repo/chart`` or the OCI reference."""
        return f"{self.repo_url}/{self.name}" if self.oci else f"{self.repo_name}/{self.name}"


def _on(_: Cluster) -> bool:
    return True


@dataclass(frozen=True)
class Release:
    """One Helm release an addon installs."""

    name: str
    namespace: str
    chart: Chart
    values_template: str  # relative to templates/, e.g. addons/gpu/values.yaml.j2
    version_of: Callable[[Cluster], str]
    enabled: Callable[[Cluster], bool] = _on
    timeout: str = "15m"

    def version(self, cluster: Cluster) -> str:
        """The pinned chart version for this spec (the spec's override, else the default)."""
        return self.version_of(cluster) or self.chart.default_version


@dataclass(frozen=True)
class Addon:
    """One post-install stage."""

    name: str
    title: str
    releases: tuple[Release, ...]
    enabled: Callable[[Cluster], bool]
    depends_on: tuple[str, ...] = ()
    host_playbook: str | None = None  # runs on every node before the releases (NFS server/client)
    experimental: bool = False

    def active_releases(self, cluster: Cluster) -> list[Release]:
        """The releases this spec turns on (none when the addon is disabled)."""
        if not self.enabled(cluster):
            return []
        return [r for r in self.releases if r.enabled(cluster)]


NVIDIA = "https://helm.ngc.nvidia.com/nvidia"
PROMETHEUS = "https://prometheus-community.github.io/helm-charts"
GRAFANA_COMMUNITY = "https://grafana-community.github.io/helm-charts"
GRAFANA = "https://grafana.github.io/helm-charts"
NFS_SUBDIR = "https://kubernetes-sigs.github.io/nfs-subdir-external-provisioner"
ROOK = "https://charts.rook.io/release"
JUPYTERHUB = "https://hub.jupyter.org/helm-chart/"
SLINKY = "oci://ghcr.io/slinkyproject/charts"

GPU_OPERATOR = Chart("nvidia", NVIDIA, "gpu-operator", "v26.3.3")
KUBE_PROMETHEUS_STACK = Chart("prometheus-community", PROMETHEUS, "kube-prometheus-stack", "87.5.1")
LOKI = Chart("grafana-community", GRAFANA_COMMUNITY, "loki", "18.11.0")
ALLOY = Chart("grafana", GRAFANA, "alloy", "1.11.1")
NFS_PROVISIONER = Chart(
    "nfs-subdir-external-provisioner", NFS_SUBDIR, "nfs-subdir-external-provisioner", "4.0.18"
)
ROOK_CEPH = Chart("rook-release", ROOK, "rook-ceph", "v1.20.6")
ROOK_CEPH_CLUSTER = Chart("rook-release", ROOK, "rook-ceph-cluster", "v1.20.6")
JUPYTERHUB_CHART = Chart("jupyterhub", JUPYTERHUB, "jupyterhub", "4.4.0")
SLURM_OPERATOR_CRDS = Chart("slinky", SLINKY, "slurm-operator-crds", "1.2.1")
SLURM_OPERATOR = Chart("slinky", SLINKY, "slurm-operator", "1.2.1")
SLURM = Chart("slinky", SLINKY, "slurm", "1.2.1")


def monitoring_on(c: Cluster) -> bool:
    return c.spec.addons.monitoring.enabled


def storage_on(c: Cluster) -> bool:
    return c.spec.addons.storage.nfs.enabled or c.spec.addons.storage.ceph.enabled


ADDONS: tuple[Addon, ...] = (
    Addon(
        "storage", "Storage (NFS / Ceph)",
        releases=(
            Release("nfs-subdir-external-provisioner", "nfs-provisioner", NFS_PROVISIONER,
                    "addons/storage/nfs-values.yaml.j2", lambda c: c.spec.addons.storage.nfs.chart_version,
                    enabled=lambda c: c.spec.addons.storage.nfs.enabled),
            Release("rook-ceph", "rook-ceph", ROOK_CEPH, "addons/storage/rook-ceph-values.yaml.j2",
                    lambda c: c.spec.addons.storage.ceph.chart_version,
                    enabled=lambda c: c.spec.addons.storage.ceph.enabled),
            Release("rook-ceph-cluster", "rook-ceph", ROOK_CEPH_CLUSTER,
                    "addons/storage/rook-ceph-cluster-values.yaml.j2",
                    lambda c: c.spec.addons.storage.ceph.chart_version,
                    enabled=lambda c: c.spec.addons.storage.ceph.enabled, timeout="30m"),
        ),
        enabled=storage_on,
        host_playbook="nfs-hosts.yml",
    ),
    Addon(
        "gpu", "NVIDIA GPU Operator",
        releases=(
            Release("gpu-operator", "gpu-operator", GPU_OPERATOR, "addons/gpu/values.yaml.j2",
                    lambda c: c.spec.addons.gpu.operator_version, timeout="20m"),
        ),
        enabled=lambda c: bool(c.spec.addons.gpu.enabled),
        # after monitoring: the operator creates the DCGM exporter's ServiceMonitor only when
        # the Prometheus Operator's CRDs already exist
        depends_on=("monitoring",),
    ),
    Addon(
        "monitoring", "Monitoring (Prometheus, Grafana, DCGM dashboards)",
        releases=(
            Release("kube-prometheus-stack", "monitoring", KUBE_PROMETHEUS_STACK,
                    "addons/monitoring/values.yaml.j2",
                    lambda c: c.spec.addons.monitoring.chart_version),
        ),
        enabled=monitoring_on,
        depends_on=("storage",),
    ),
    Addon(
        "logging", "Logging (Loki, Alloy)",
        releases=(
            Release("loki", "logging", LOKI, "addons/logging/loki-values.yaml.j2",
                    lambda c: c.spec.addons.logging.loki_chart_version),
            Release("alloy", "logging", ALLOY, "addons/logging/alloy-values.yaml.j2",
                    lambda c: c.spec.addons.logging.alloy_chart_version),
        ),
        enabled=lambda c: c.spec.addons.logging.enabled,
        depends_on=("storage", "monitoring"),
    ),
    Addon(
        "slurm", "Slurm on Kubernetes (Slinky)",
        releases=(
            Release("slurm-operator-crds", "slinky", SLURM_OPERATOR_CRDS, "addons/slurm/crds-values.yaml.j2",
                    lambda c: c.spec.addons.slurm.chart_version),
            Release("slurm-operator", "slinky", SLURM_OPERATOR, "addons/slurm/operator-values.yaml.j2",
                    lambda c: c.spec.addons.slurm.chart_version),
            Release("slurm", "slurm", SLURM, "addons/slurm/slurm-values.yaml.j2",
                    lambda c: c.spec.addons.slurm.chart_version),
        ),
        enabled=lambda c: c.spec.addons.slurm.enabled,
        depends_on=("gpu",),
    ),
    Addon(
        "jupyterhub", "JupyterHub",
        releases=(
            Release("jupyterhub", "jupyterhub", JUPYTERHUB_CHART, "addons/jupyterhub/values.yaml.j2",
                    lambda c: c.spec.addons.jupyterhub.chart_version),
        ),
        enabled=lambda c: c.spec.addons.jupyterhub.enabled,
        depends_on=("gpu", "storage"),
    ),
)

ADDON_NAMES = tuple(a.name for a in ADDONS)


def get_addon(name: str) -> Addon:
    """The addon called ``name``; :class:`UsageError` for an unknown name."""
    for addon in ADDONS:
        if addon.name == name:
            return addon
    raise UsageError(f"unknown addon {name!r}", hint=f"addons are: {', '.join(ADDON_NAMES)}")
