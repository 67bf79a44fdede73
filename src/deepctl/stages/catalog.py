"""The stages of ``deepctl deploy``, held as data.

Each :class:`StageInfo` says what the stage is called, what it depends on, whether the spec
enables it and what it would do (for ``--dry-run``). The order of a deploy is derived from
the declared dependencies, keeping catalog order among independent stages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from deepctl.errors import UsageError
from deepctl.spec.models import Cluster


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
    return ", ".join(h.name for h in cluster.spec.hosts)


def _gpu_text(c: Cluster) -> str:
    gpu = c.spec.addons.gpu
    driver = (f"driver {gpu.driver.version or 'default'} installed by the operator"
              if gpu.driver.install else "preinstalled drivers")
    return (f"helm install gpu-operator {gpu.operator_version} (nvidia/gpu-operator), "
            f"{driver}, MIG strategy {gpu.mig.strategy}, DCGM exporter")


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
        "storage", "Storage (NFS / Ceph)",
        lambda c: ", ".join(
            part for part, on in (
                ("NFS provisioner", c.spec.addons.storage.nfs.enabled),
                ("Rook Ceph", c.spec.addons.storage.ceph.enabled),
            ) if on
        ),
        after=("kubeconfig",),
        enabled=lambda c: c.spec.addons.storage.nfs.enabled or c.spec.addons.storage.ceph.enabled,
    ),
    StageInfo(
        "gpu", "NVIDIA GPU Operator", _gpu_text, after=("kubeconfig",),
        enabled=lambda c: c.spec.addons.gpu.enabled,
    ),
    StageInfo(
        "monitoring", "Monitoring (Prometheus, Grafana, DCGM dashboards)",
        lambda c: f"helm install kube-prometheus-stack, retention "
        f"{c.spec.addons.monitoring.retention}, {c.spec.addons.monitoring.storage_size} volume",
        after=("kubeconfig", "storage"),
        enabled=lambda c: c.spec.addons.monitoring.enabled,
    ),
    StageInfo(
        "logging", "Logging (Loki, Alloy)",
        lambda c: "helm install loki (single binary) and alloy (DaemonSet)",
        after=("kubeconfig", "storage", "monitoring"),
        enabled=lambda c: c.spec.addons.logging.enabled,
    ),
    StageInfo(
        "slurm", "Slurm on Kubernetes (experimental)",
        lambda c: "helm install slurm-operator and a Slurm cluster with GPU GRES",
        after=("kubeconfig", "gpu"),
        enabled=lambda c: c.spec.addons.slurm.enabled,
    ),
    StageInfo(
        "jupyterhub", "JupyterHub",
        lambda c: "helm install jupyterhub with 0/1/N GPU profiles",
        after=("kubeconfig", "gpu", "storage"),
        enabled=lambda c: c.spec.addons.jupyterhub.enabled,
    ),
    StageInfo(
        "verify", "Verify the cluster",
        lambda c: "all nodes Ready" + (
            "; nvidia.com/gpu allocatable as preflight saw; CUDA smoke Job per GPU node"
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
