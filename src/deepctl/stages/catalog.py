"""The stages of ``deepctl deploy``, held as data.

Each :class:`StageInfo` says what the stage is called, what it depends on, whether the spec
enables it and what it would do (for ``--dry-run``). The order of a deploy is derived from
the declared dependencies, keeping catalog order among independent stages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from deepctl.addons.describe import describer
from deepctl.errors import UsageError
from deepctl.names import summary
from deepctl.spec.models import Cluster
from deepctl.stages.verify_gpu import SMOKE_IMAGE


def _always(_: Cluster) -> bool:
    return True


@dataclass(frozen=True)
class StageInfo:
    name: str
    title: str
    describe: Callable[[Cluster], str]
    after: tuple[str, ...] = ()
    enabled: Callable[[Cluster], bool] = _always


def _hosts(cluster: Cluster) -> str:
    return summary([h.name for h in cluster.spec.hosts], counted=False)  # "cp[1-3], gpu[0001-2000]"


CATALOG: tuple[StageInfo, ...] = (
    StageInfo(
        "preflight", "Check hosts",
        lambda c: f"SSH to {len(c.spec.hosts)} host(s) ({_hosts(c)}) and check OS, "
        "resources, ports, uniqueness, GPUs; changes nothing",
    ),
    StageInfo(
        "inventory", "Render Kubespray inventory",
        lambda c: "write hosts.yaml and group_vars into the state directory",
        after=("preflight",),
    ),
    StageInfo(
        "kubespray", "Install Kubernetes (Kubespray cluster.yml)",
        lambda c: f"ansible-playbook cluster.yml on {len(c.spec.hosts)} host(s): Kubernetes "
        f"{c.spec.kubernetes.version}, {c.spec.kubernetes.network_plugin}, "
        f"{c.spec.kubernetes.container_runtime}",
        after=("inventory",),
    ),
    StageInfo(
        "kubeconfig", "Fetch admin kubeconfig",
        lambda c: "keep Kubespray's artifacts/admin.conf (0600) in the state directory",
        after=("kubespray",),
    ),
    StageInfo(
        "storage", "Storage (NFS / Ceph)", describer("storage"),
        after=("kubeconfig",),
        enabled=lambda c: c.spec.addons.storage.nfs.enabled or c.spec.addons.storage.ceph.enabled,
    ),
    StageInfo(
        "gpu", "NVIDIA GPU Operator", describer("gpu"), after=("kubeconfig",),
        enabled=lambda c: c.spec.addons.gpu.enabled,
    ),
    StageInfo(
        "monitoring", "Monitoring (Prometheus, Grafana, DCGM dashboards)", describer("monitoring"),
        after=("kubeconfig", "storage"),
        enabled=lambda c: c.spec.addons.monitoring.enabled,
    ),
    StageInfo(
        "logging", "Logging (Loki, Alloy)", describer("logging"),
        after=("kubeconfig", "storage", "monitoring"),
        enabled=lambda c: c.spec.addons.logging.enabled,
    ),
    StageInfo(
        "slurm", "Slurm on Kubernetes (experimental)", describer("slurm"),
        after=("kubeconfig", "gpu"),
        enabled=lambda c: c.spec.addons.slurm.enabled,
    ),
    StageInfo(
        "jupyterhub", "JupyterHub", describer("jupyterhub"),
        after=("kubeconfig", "gpu", "storage"),
        enabled=lambda c: c.spec.addons.jupyterhub.enabled,
    ),
    StageInfo(
        "verify", "Verify the cluster",
        lambda c: "all nodes Ready" + (
            "; nvidia.com/gpu allocatable as preflight saw; CUDA smoke Job (nvidia-smi, "
            f"{SMOKE_IMAGE}) on {summary([h.name for h in c.gpu_hosts])}"
            if c.spec.addons.gpu.enabled and c.gpu_hosts else ""
        ),
        after=("kubeconfig", "gpu"),
    ),
)

STAGE_NAMES = tuple(s.name for s in CATALOG)


def ordered(stages: tuple[StageInfo, ...] = CATALOG) -> list[StageInfo]:
    """Stages in dependency order (stable: catalog order among independent stages)."""
    by_name = {s.name: s for s in stages}
    done: list[StageInfo] = []
    placed: set[str] = set()
    remaining = list(stages)
    while remaining:
        for stage in remaining:
            if all(dep in placed or dep not in by_name for dep in stage.after):
                done.append(stage)
                placed.add(stage.name)
                remaining.remove(stage)
                break
        else:
            cycle = ", ".join(s.name for s in remaining)
            raise RuntimeError(f"stage dependencies form a cycle among: {cycle}")
    return done


def check_stage_names(names: list[str]) -> None:
    for name in names:
        if name not in STAGE_NAMES:
            from deepctl.spec.rules import did_you_mean

            raise UsageError(
                f"unknown stage {name!r}{did_you_mean(name, set(STAGE_NAMES))}",
                hint=f"stages are: {', '.join(STAGE_NAMES)}",
            )
