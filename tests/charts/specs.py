"""Representative specs whose releases tests/charts renders with the real charts.

Each is a :class:`Cluster` plus the GPUs "preflight saw" on its GPU hosts (what Slurm's
NodeSets and GRES are made from). Together they turn on every release deepctl installs.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

from deepctl.addons import ADDONS
from deepctl.addons.playbook import ReleasePlan, plan_addon
from deepctl.clusterspec.models import Cluster
from deepctl.preflight.gpu import GpuInventory

ROOT = Path(__file__).resolve().parents[2]
H100 = GpuInventory(8, "NVIDIA H100 80GB HBM3")
A100 = GpuInventory(4, "NVIDIA A100-SXM4-40GB")

HOSTS: list[dict[str, Any]] = [
    {"name": "cp1", "address": "10.0.0.1", "roles": ["control-plane", "etcd", "worker"],
     "cephDevices": ["/dev/sdb"]},
    {"name": "gpu1", "address": "10.0.0.2", "roles": ["worker"], "gpu": True,
     "taints": ["dedicated=ml:NoSchedule"], "cephDevices": ["/dev/nvme1n1"]},
    {"name": "gpu2", "address": "10.0.0.3", "roles": ["worker"], "gpu": True,
     "cephDevices": ["/dev/disk/by-id/nvme-SAMSUNG_MZQL23T8HCLS-00A07_S64HNE0T123456"]},
]


def cluster(**addons: Any) -> Cluster:
    return Cluster.model_validate(
        {"metadata": {"name": "lab"}, "spec": {"hosts": HOSTS, "addons": addons}})


def example(name: str) -> Cluster:
    return Cluster.model_validate(yaml.safe_load((ROOT / "examples" / f"{name}.yaml").read_text()))


SPECS: dict[str, Cluster] = {
    "gpu-cluster": example("gpu-cluster"),
    "everything": cluster(
        gpu={"driver": {"install": True, "version": "580.126.20"}},
        logging={"enabled": True},
        storage={"nfs": {"enabled": True, "server": "cp1"}, "ceph": {"enabled": True}},
        slurm={"enabled": True, "accounting": {"enabled": True, "storageHost": "db.example.org"},
               "login": {"serviceType": "NodePort", "sshAuthorizedKeys": ["ssh-ed25519 AAAAC3 ops"]}},
        jupyterhub={"enabled": True, "gpuProfiles": [0, 1, 8]},
    ),
    "nfs-only": cluster(
        logging={"enabled": True},
        storage={"nfs": {"enabled": True, "externalServer": "nfs.example.org"}},
        jupyterhub={"enabled": True}, slurm={"enabled": True},
    ),
    "ceph": cluster(storage={"ceph": {"enabled": True}}, logging={"enabled": True}),
    "mig-mixed": cluster(gpu={"mig": {"strategy": "mixed"}, "timeSlicingReplicas": 4}),
    "driver-install": cluster(
        gpu={"driver": {"install": True, "version": "580.126.20"}, "mig": {"strategy": "single"}},
        monitoring={"enabled": False}, jupyterhub={"enabled": True, "gpuProfiles": [2]},
    ),
}


def gpus_of(c: Cluster) -> dict[str, GpuInventory]:
    """What preflight "saw": A100s on gpu2 of the lab specs, H100s everywhere else."""
    return {h.name: A100 if h.name == "gpu2" else H100 for h in c.gpu_hosts}


@cache
def plans(spec: str) -> dict[str, ReleasePlan]:
    """``{release name: plan}`` of every release the spec turns on."""
    c = SPECS[spec]
    return {item.release.name: item for addon in ADDONS
            for item in plan_addon(c, addon, gpus_of(c)).releases}


def cases(*releases: str) -> list[tuple[str, str]]:
    """(spec, release) pairs, for every release or those named."""
    return [(spec, name) for spec in SPECS for name in plans(spec)
            if not releases or name in releases]
