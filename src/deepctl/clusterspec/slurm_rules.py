"""Spec rules about the Slurm addon (pure functions).

Slurm's GPU NodeSets claim whole GPUs (``nvidia.com/gpu`` = the node's GPU count) and let
Slurm share them out: a MIG strategy or time-slicing would make the node offer something
else than the GPUs preflight counted, so both are refused with Slurm on.
"""

from __future__ import annotations

from collections.abc import Iterator

from deepctl.clusterspec.finding import Finding
from deepctl.clusterspec.models import Cluster

SLURM = ("spec", "addons", "slurm")


def check_slurm(cluster: Cluster) -> Iterator[Finding]:
    addons = cluster.spec.addons
    slurm = addons.slurm
    if not slurm.enabled:
        return
    gpu = addons.gpu
    gpu_workers = [h.name for h in cluster.workers if h.gpu]
    if gpu_workers and not gpu.enabled:
        yield Finding((*SLURM, "enabled"),
                      f"Slurm's GPU nodes ({', '.join(gpu_workers)}) need the GPU addon "
                      "(addons.gpu.enabled: true) to offer nvidia.com/gpu to the slurmd pods")
    if gpu.enabled and gpu.mig.strategy != "none":
        yield Finding(("spec", "addons", "gpu", "mig", "strategy"),
                      f"Slurm gives whole GPUs to its nodes; with MIG strategy {gpu.mig.strategy!r} "
                      "the nodes offer MIG devices instead: set mig.strategy: none, or disable "
                      "addons.slurm")
    if gpu.enabled and gpu.time_slicing_replicas:
        yield Finding(("spec", "addons", "gpu", "timeSlicingReplicas"),
                      "Slurm gives whole GPUs to its nodes and shares them itself; remove "
                      "timeSlicingReplicas, or disable addons.slurm")
    if slurm.accounting.enabled and not slurm.accounting.storage_host:
        yield Finding((*SLURM, "accounting", "storageHost"),
                      "Slurm accounting is enabled but no database server is named (set "
                      "storageHost to your MySQL/MariaDB server)")
