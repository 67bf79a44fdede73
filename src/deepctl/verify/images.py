"""The images verify's Jobs run (pinned in :mod:`deepctl.addons.decisions`, where
``artifacts list`` finds them too), and their place in the mirror with ``spec.offline``."""

from __future__ import annotations

from deepctl.addons.decisions import DCGM_IMAGE, NCCL_TESTS_IMAGE
from deepctl.clusterspec.models import Cluster
from deepctl.kubevars.offline import mirror_image

__all__ = ["DCGM_IMAGE", "NCCL_TESTS_IMAGE", "image_for"]


def image_for(cluster: Cluster, ref: str) -> str:
    """``ref``, or its place under ``spec.offline.registry`` when the cluster is offline."""
    offline = cluster.spec.offline
    return mirror_image(ref, offline.registry) if offline else ref
