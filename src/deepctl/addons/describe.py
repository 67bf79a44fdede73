"""What an addon stage would do, in one line, for ``deploy --dry-run`` (pure).

Built from the registry: every release with its pinned chart (``repo/chart VERSION``, the
spec's override included), then what the spec chose for that addon.
"""

from __future__ import annotations

from collections.abc import Callable

from deepctl.addons.offline import chart_source
from deepctl.addons.registry import Release, get_addon
from deepctl.addons.values import addon_context
from deepctl.clusterspec.models import Cluster
from deepctl.names import summary


def chart_text(cluster: Cluster, release: Release) -> str:
    """E.g. ``gpu-operator (nvidia/gpu-operator v26.3.3) in gpu-operator``.

    Under ``spec.offline`` the chart is named where the run takes it from: the mirror's
    Helm repository (``deepctl-offline/gpu-operator from URL``) or its local ``.tgz``.
    """
    source = chart_source(cluster, release)
    if cluster.spec.offline is not None and cluster.spec.offline.charts is not None:
        where = source.file or f"{source.ref} from {source.repo_url}"
        return f"{release.name} ({where} {release.version(cluster)}) in {release.namespace}"
    return f"{release.name} ({release.chart.ref} {release.version(cluster)}) in {release.namespace}"


def _storage(c: Cluster) -> str:
    storage = c.spec.addons.storage
    parts = []
    if storage.nfs.enabled:
        where = (f"external server {storage.nfs.external_server}" if storage.nfs.external_server
                 else f"NFS server on {storage.nfs.server}")
        parts.append(f"{where} ({storage.nfs.path}), NFS client on every node")
    if storage.ceph.enabled:
        hosts = [h.name for h in c.spec.hosts if h.ceph_devices]
        parts.append(f"Ceph OSDs on {summary(hosts) or 'no host'}")
    default = addon_context(c).default_class
    parts.append(f"default StorageClass {default}" if default else "no default StorageClass")
    return "; ".join(parts)


def _gpu(c: Cluster) -> str:
    gpu = c.spec.addons.gpu
    driver = (f"driver {gpu.driver.version or 'default'} installed by the operator"
              if gpu.driver.install else "preinstalled drivers")
    sharing = f", time-slicing x{gpu.time_slicing_replicas}" if gpu.time_slicing_replicas else ""
    images = f", images from {c.spec.offline.registry}" if c.spec.offline is not None else ""
    return f"{driver}, MIG strategy {gpu.mig.strategy}, DCGM exporter{sharing}{images}"


def _monitoring(c: Cluster) -> str:
    monitoring = c.spec.addons.monitoring
    volume = (f"{monitoring.storage_size} volume" if addon_context(c).storage_class
              else "no volume (no StorageClass)")
    return f"retention {monitoring.retention}, {volume}, GPU dashboard and alerts"


def _logging(c: Cluster) -> str:
    return "Loki single binary, Alloy DaemonSet" + (
        ", Loki data source in Grafana" if c.spec.addons.monitoring.enabled else "")


def _jupyterhub(c: Cluster) -> str:
    hub = c.spec.addons.jupyterhub
    profiles = ", ".join(str(n) for n in hub.gpu_profiles)
    return f"GPU profiles [{profiles}], {hub.storage_size} per user, NativeAuthenticator"


def _slurm(c: Cluster) -> str:
    slurm = c.spec.addons.slurm
    gpu_workers = [h for h in c.workers if h.gpu and c.spec.addons.gpu.enabled]
    cpu = len(c.workers) - len(gpu_workers)
    accounting = (f", accounting in {slurm.accounting.database} on {slurm.accounting.storage_host}"
                  if slurm.accounting.enabled else ", no accounting")
    return (f"a partition per GPU model on {len(gpu_workers)} GPU node(s) (all their GPUs as "
            f"GRES, from preflight's facts)" + (f", partition cpu on {cpu} node(s)" if cpu else "")
            + f", login node ({slurm.login.service_type}){accounting}")


DETAILS: dict[str, Callable[[Cluster], str]] = {
    "storage": _storage, "gpu": _gpu, "monitoring": _monitoring, "logging": _logging,
    "jupyterhub": _jupyterhub, "slurm": _slurm,
}


def describe_addon(name: str, cluster: Cluster) -> str:
    """``helm upgrade --install`` of the addon's releases with pinned charts; the spec's choices.

    A disabled addon lists what enabling it would install.
    """
    addon = get_addon(name)
    releases = addon.active_releases(cluster) or [
        r for r in addon.releases if r.enabled(cluster)] or list(addon.releases)
    charts = ", ".join(chart_text(cluster, r) for r in releases)
    return f"helm upgrade --install {charts}; {DETAILS[name](cluster)}"


def describer(name: str) -> Callable[[Cluster], str]:
    """``describe_addon`` for one addon, as a catalog ``describe`` callable."""
    return lambda cluster: describe_addon(name, cluster)
