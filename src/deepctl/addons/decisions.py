"""Decisions about the addons that several modules need, made once, in Python (pure)."""

from __future__ import annotations

from deepctl.clusterspec.models import Cluster

NFS_STORAGE_CLASS = "nfs-client"
CEPH_STORAGE_CLASS = "ceph-block"
# The verify stage's CUDA smoke Job runs it on every GPU node; artifacts list names it.
SMOKE_IMAGE = "nvcr.io/nvidia/cuda:12.8.1-base-ubuntu24.04"
# `deepctl verify --level standard|full` (deepctl.verify.manifests); artifacts list names them.
# The standalone DCGM image of the GPU Operator chart deepctl pins (v26.3.3): its values.yaml
# `dcgm: {repository: nvcr.io/nvidia/cloud-native, image: dcgm, version: 4.5.2-1-ubuntu22.04}`
# (tests/unit/test_verify_manifests.py checks it against the chart).
DCGM_IMAGE = "nvcr.io/nvidia/cloud-native/dcgm:4.5.2-1-ubuntu22.04"
# nccl-tests built with MPI and OpenSSH (CoreWeave's public nccl-tests images, made for MPI
# launchers): all_reduce_perf, mpirun and sshd.
NCCL_TESTS_IMAGE = "ghcr.io/coreweave/nccl-tests:12.9.1-devel-ubuntu24.04-nccl2.29.2-1-d73ec07"


def storage_classes(cluster: Cluster) -> tuple[str | None, str | None]:
    """(the class PVCs use, the cluster's default class), each None when there is none."""
    storage = cluster.spec.addons.storage
    if storage.ceph.enabled:  # Ceph block is the default class whenever Ceph is on
        return CEPH_STORAGE_CLASS, CEPH_STORAGE_CLASS
    if storage.nfs.enabled:
        return NFS_STORAGE_CLASS, NFS_STORAGE_CLASS if storage.nfs.default_class else None
    return None, None


def mig_manager_on(cluster: Cluster) -> bool:
    """The spec's ``mig.manager``; unset: on exactly when a MIG strategy is chosen."""
    mig = cluster.spec.addons.gpu.mig
    return mig.manager if mig.manager is not None else mig.strategy != "none"


def operator_mig_strategy(cluster: Cluster) -> str:
    """The GPU Operator knows ``single`` and ``mixed``; the spec's ``none`` renders as single
    (harmless on GPUs without MIG partitions)."""
    strategy = cluster.spec.addons.gpu.mig.strategy
    return strategy if strategy != "none" else "single"
