"""Rules of ``spec.offline`` that need the rest of the spec (registered in :mod:`.rules`)."""

from __future__ import annotations

from collections.abc import Iterator

from deepctl.clusterspec.finding import Finding
from deepctl.clusterspec.models import Cluster
from deepctl.clusterspec.offline import OFFLINE_KUBESPRAY_VARS


def _addons_on(cluster: Cluster) -> list[str]:
    addons = cluster.spec.addons
    flags = {
        "gpu": addons.gpu.enabled, "monitoring": addons.monitoring.enabled,
        "logging": addons.logging.enabled, "storage.nfs": addons.storage.nfs.enabled,
        "storage.ceph": addons.storage.ceph.enabled, "slurm": addons.slurm.enabled,
        "jupyterhub": addons.jupyterhub.enabled,
    }
    return [name for name, on in flags.items() if on]


def check_offline(cluster: Cluster) -> Iterator[Finding]:
    """Rules of ``spec.offline`` that need the rest of the spec."""
    offline = cluster.spec.offline
    if offline is None:
        return
    addons = _addons_on(cluster)
    if offline.charts is None and addons:
        yield Finding(
            ("spec", "offline"),
            f"offline.charts is required while addons are on ({', '.join(addons)}): without it "
            "their Helm charts would come from the internet; set it to your chart mirror "
            "(a Helm repository URL or a directory of .tgz files)",
        )
    for name in OFFLINE_KUBESPRAY_VARS:
        if name in cluster.spec.kubespray_vars:
            yield Finding(
                ("spec", "kubesprayVars", name),
                f"kubesprayVars.{name} overrides what spec.offline sets; remove it from "
                "kubesprayVars",
            )
