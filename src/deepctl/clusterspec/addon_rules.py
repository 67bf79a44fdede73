"""Spec rules about addons, storage and raw Kubespray variables (pure functions)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from deepctl.clusterspec.finding import Finding, PathKey, did_you_mean
from deepctl.clusterspec.models import Cluster


def _host_path(index: int, *rest: str | int) -> PathKey:
    return ("spec", "hosts", index, *rest)


def helm_addons(cluster: Cluster) -> list[str]:
    """The enabled addons deepctl installs with helm (on the first control plane)."""
    addons = cluster.spec.addons
    enabled = {
        "gpu": addons.gpu.enabled,
        "monitoring": addons.monitoring.enabled,
        "logging": addons.logging.enabled,
        "storage.nfs": addons.storage.nfs.enabled,
        "storage.ceph": addons.storage.ceph.enabled,
        "slurm": addons.slurm.enabled,
        "jupyterhub": addons.jupyterhub.enabled,
    }
    return [name for name, on in enabled.items() if on]


def check_addons(cluster: Cluster) -> Iterator[Finding]:
    addons = cluster.spec.addons
    gpu = addons.gpu
    if gpu.enabled and not cluster.gpu_hosts:
        yield Finding(
            ("spec", "addons", "gpu", "enabled"),
            "the GPU addon is enabled but no host has 'gpu: true'; the GPU Operator will "
            "find nothing to manage",
            "warning",
        )
    if not gpu.enabled and gpu.mig.strategy != "none":
        yield Finding(
            ("spec", "addons", "gpu", "mig", "strategy"),
            f"MIG strategy {gpu.mig.strategy!r} needs the GPU addon (addons.gpu.enabled: true)",
        )
    if gpu.driver.install and not gpu.driver.version:
        yield Finding(
            ("spec", "addons", "gpu", "driver", "version"),
            "driver.install is true but no driver version is given; the operator default "
            "will be used",
            "warning",
        )
    nfs = addons.storage.nfs
    if nfs.enabled and nfs.server is None and nfs.external_server is None:
        yield Finding(
            ("spec", "addons", "storage", "nfs", "server"),
            "NFS storage is enabled but no server host is named (set server to one of the "
            "hosts, or externalServer to an NFS server deepctl does not manage)",
        )
    if nfs.server is not None and cluster.host(nfs.server) is None:
        names = {h.name for h in cluster.spec.hosts}
        yield Finding(
            ("spec", "addons", "storage", "nfs", "server"),
            f"NFS server {nfs.server!r} is not a host of this spec{did_you_mean(nfs.server, names)}",
        )


CEPH_REPLICAS = 3  # the rook-ceph-cluster chart's default block pool: 3 replicas, one per host
DEVICE_PATH = re.compile(r"^/dev/[A-Za-z0-9_.:+@-]+(/[A-Za-z0-9_.:+@-]+)*\Z")


def check_storage(cluster: Cluster) -> Iterator[Finding]:
    """NFS server xor external server; Ceph devices are /dev paths on enough hosts."""
    storage = cluster.spec.addons.storage
    nfs = storage.nfs
    if nfs.server is not None and nfs.external_server is not None:
        yield Finding(("spec", "addons", "storage", "nfs", "externalServer"),
                      f"both server ({nfs.server!r}, managed by deepctl) and externalServer "
                      f"({nfs.external_server!r}) are set; keep one of them")
    for i, host in enumerate(cluster.spec.hosts):
        for j, device in enumerate(host.ceph_devices):
            if not DEVICE_PATH.match(device) or ".." in device.split("/"):
                yield Finding(_host_path(i, "cephDevices", j),
                              f"{device!r} is not an absolute device path such as /dev/nvme1n1 "
                              "or /dev/disk/by-id/...")
            elif device in host.ceph_devices[:j]:
                yield Finding(_host_path(i, "cephDevices", j), f"{device} is listed twice")
    with_devices = [h.name for h in cluster.spec.hosts if h.ceph_devices]
    if storage.ceph.enabled and len(with_devices) < CEPH_REPLICAS:
        found = f" (only {', '.join(with_devices)})" if with_devices else ""
        yield Finding(("spec", "addons", "storage", "ceph", "enabled"),
                      f"Ceph needs cephDevices on at least {CEPH_REPLICAS} hosts: its default "
                      f"block pool keeps {CEPH_REPLICAS} replicas on different hosts; "
                      f"{len(with_devices)} host(s) list devices{found}")
    elif not storage.ceph.enabled and with_devices:
        yield Finding(("spec", "addons", "storage", "ceph", "enabled"),
                      f"cephDevices are listed ({', '.join(with_devices)}) but Ceph is not "
                      "enabled; they are ignored", "warning")
