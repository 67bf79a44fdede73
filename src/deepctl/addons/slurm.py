"""The Slurm (Slinky) cluster deepctl installs, decided from the spec and preflight's GPU facts.

Pure: :func:`slurm_layout` turns the spec's workers and what preflight saw on them
(:class:`~deepctl.preflight.gpu.GpuInventory`, from ``<state>/facts/<host>.json``) into
NodeSets and partitions; ``templates/addons/slurm/slurm-values.yaml.j2`` only renders them.

- **NodeSets.** One per (GPU model, GPUs per host) among the GPU workers: its slurmd pods run
  only on those hosts (node affinity on ``kubernetes.io/hostname``, one pod per node), each
  asks for every GPU of its node (``nvidia.com/gpu`` = preflight's count, requests = limits)
  under the ``nvidia`` RuntimeClass, and declares them to Slurm as GRES ``gpu:<type>:<count>``.
  The workers without GPUs form the NodeSet ``cpu``.
- **Partitions.** One per GPU model (all NodeSets of that model), plus ``cpu`` when there are
  CPU workers. The first GPU partition (spec host order) is the default, else ``cpu``.
- **GRES type.** A short lower-case name of the model (``h100`` for "NVIDIA H100 80GB HBM3"
  or lspci's "H100 SXM5 80GB"); slurmd's ``AutoDetect=nvidia`` reads the full model from the
  driver, and Slurm matches a configured type as a substring of it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from deepctl.clusterspec.models import TAINT, Cluster, Host

if TYPE_CHECKING:  # deepctl.preflight's package imports the workspace, which imports addons
    from deepctl.preflight.gpu import GpuInventory

GPU_RESOURCE = "nvidia.com/gpu"
RUNTIME_CLASS = "nvidia"
CPU = "cpu"
UNTYPED = "gpu"  # partition and NodeSet prefix when the model is unknown
VENDOR_WORDS = frozenset({"nvidia", "tesla", "geforce", "quadro", "corporation"})
FAMILY_WORDS = frozenset({"rtx", "gtx", "titan"})  # need the next word to name a model


def gres_type(model: str) -> str | None:
    """``"NVIDIA H100 80GB HBM3"`` -> ``"h100"``; ``"NVIDIA RTX A6000"`` -> ``"rtx_a6000"``."""
    words = [w for w in re.split(r"[\s_]+", model.lower()) if w and w not in VENDOR_WORDS]
    if not words:
        return None
    first = words[0].split("-")[0]
    if first in FAMILY_WORDS and len(words) > 1:
        first = f"{first}_{words[1].split('-')[0]}"
    return re.sub(r"[^a-z0-9_]", "", first) or None


@dataclass(frozen=True)
class NodeSet:
    """slurmd pods on ``hosts`` (one per host), each with ``gpus`` GPUs of type ``gres_type``."""

    name: str
    hosts: tuple[str, ...]
    gpus: int
    gres_type: str | None
    partition: str
    tolerations: tuple[tuple[tuple[str, str], ...], ...] = ()

    @property
    def gres(self) -> str | None:
        """``gpu:h100:8`` (the node's ``Gres=``); None for a CPU NodeSet."""
        if not self.gpus:
            return None
        return f"gpu:{self.gres_type}:{self.gpus}" if self.gres_type else f"gpu:{self.gpus}"

    def toleration_dicts(self) -> list[dict[str, str]]:
        return [dict(t) for t in self.tolerations]


@dataclass(frozen=True)
class Partition:
    name: str
    nodesets: tuple[str, ...]
    default: bool
    gpus: int  # GPUs on the smallest node of the partition (0: CPU partition)
    hosts: tuple[str, ...]


@dataclass(frozen=True)
class SlurmLayout:
    nodesets: tuple[NodeSet, ...]
    partitions: tuple[Partition, ...]
    missing_facts: tuple[str, ...] = ()  # GPU workers preflight has not counted GPUs on

    @property
    def gpu_partitions(self) -> tuple[Partition, ...]:
        return tuple(p for p in self.partitions if p.gpus)


def _taint_toleration(taint: str) -> tuple[tuple[str, str], ...] | None:
    match = TAINT.match(taint)
    if match is None:
        return None
    item = {"key": match["key"], "operator": "Equal" if match["value"] else "Exists",
            "effect": match["effect"]}
    if match["value"]:
        item["value"] = match["value"]
    return tuple(item.items())


def tolerations(hosts: list[Host], gpu: bool) -> tuple[tuple[tuple[str, str], ...], ...]:
    """Tolerate the GPU taint (GPU NodeSets) and every spec taint of the NodeSet's hosts."""
    found: dict[tuple[tuple[str, str], ...], None] = {}
    if gpu:
        found[(("key", GPU_RESOURCE), ("operator", "Exists"), ("effect", "NoSchedule"))] = None
    for host in hosts:
        for taint in host.taints:
            item = _taint_toleration(taint)
            if item is not None:
                found[item] = None
    return tuple(found)


def _nodeset_name(kind: str | None, gpus: int) -> str:
    return f"{(kind or UNTYPED).replace('_', '-')}-x{gpus}"


def _gpu_nodesets(hosts: list[Host], gpus: Mapping[str, GpuInventory]) -> list[NodeSet]:
    groups: dict[tuple[str | None, int], list[Host]] = {}
    for host in hosts:
        seen = gpus[host.name]
        groups.setdefault((gres_type(seen.model), seen.count), []).append(host)
    return [NodeSet(_nodeset_name(kind, count), tuple(h.name for h in members), count, kind,
                    kind or UNTYPED, tolerations(members, gpu=True))
            for (kind, count), members in groups.items()]


def slurm_layout(cluster: Cluster, gpus: Mapping[str, GpuInventory]) -> SlurmLayout:
    """NodeSets and partitions for the spec's workers, with the GPUs preflight saw on them."""
    gpu_on = cluster.spec.addons.gpu.enabled
    workers = cluster.workers
    gpu_workers = [h for h in workers if gpu_on and h.gpu]
    missing = tuple(h.name for h in gpu_workers
                    if (seen := gpus.get(h.name)) is None or seen.count <= 0)
    counted = [h for h in gpu_workers if h.name not in missing]
    nodesets = _gpu_nodesets(counted, gpus)
    cpu_hosts = [h for h in workers if h not in gpu_workers]
    if cpu_hosts:
        nodesets.append(NodeSet(CPU, tuple(h.name for h in cpu_hosts), 0, None, CPU,
                                tolerations(cpu_hosts, gpu=False)))
    names = list(dict.fromkeys(n.partition for n in nodesets))
    default = next((n for n in names if n != CPU), CPU)
    partitions = tuple(
        Partition(name, tuple(n.name for n in members), name == default,
                  min(n.gpus for n in members), tuple(h for n in members for h in n.hosts))
        for name in names if (members := [n for n in nodesets if n.partition == name])
    )
    return SlurmLayout(tuple(nodesets), partitions, missing)
