"""What a command would do, as data (``--dry-run`` of deploy and the node commands prints it).

The stages part is the run's own :class:`~deepctl.engine.runplan.RunPlan`, made the way a
real run makes it (the same selection, spec, inputs hashes, ledger and rerun reasons), so the
plan people approve is the plan that runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from deepctl.clusterspec.models import Cluster
from deepctl.engine.runplan import Decision, RunPlan
from deepctl.engine.session import Operation, plan_operation
from deepctl.kubespray.source import KubesprayTree, cache_path
from deepctl.workspace import Workspace


@dataclass
class Plan:
    command: str
    cluster: str
    kubernetes_version: str
    kubespray_tag: str
    kubespray_source: str
    roles: dict[str, list[str]]
    run: RunPlan
    notes: list[str] = field(default_factory=list)

    @property
    def stages(self) -> tuple[Decision, ...]:
        return self.run.stages

    @property
    def playbooks(self) -> list[str]:
        return self.run.playbooks

    def to_json(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "cluster": self.cluster,
            "kubernetesVersion": self.kubernetes_version,
            "kubespray": {"tag": self.kubespray_tag, "source": self.kubespray_source},
            "roles": self.roles,
            "playbooks": self.playbooks,
            "stages": self.run.to_json(),
            "notes": self.notes,
        }


def notes_for(cluster: Cluster) -> list[str]:
    notes = []
    cps = cluster.control_plane
    k8s = cluster.spec.kubernetes
    local = k8s.local_api_server_load_balancer
    external = k8s.api_server_load_balancer is not None or k8s.kube_vip is not None
    if len(cps) > 1 and not external and local.enabled is not False:
        notes.append(
            f"HA control plane ({len(cps)} nodes) without apiServerLoadBalancer: Kubespray runs "
            f"a local API load balancer ({local.type or 'nginx'}) on every node"
        )
    if cluster.spec.ssh.bastion is not None:
        notes.append(f"all SSH goes through the bastion {cluster.spec.ssh.bastion.address}")
    return notes


def build_plan(ws: Workspace, tree: KubesprayTree | None, op: Operation,
               notes: tuple[str, ...] = ()) -> Plan:
    """The plan of ``op`` as a run would make it now (nothing is contacted)."""
    cluster = ws.cluster
    tag = cluster.spec.kubespray.version
    source = tree.describe() if tree else (
        f"Kubespray {tag}: not present yet; will be cloned into {cache_path(tag)}"
    )
    return Plan(
        command=op.command,
        cluster=cluster.name,
        kubernetes_version=cluster.spec.kubernetes.version,
        kubespray_tag=tag,
        kubespray_source=source,
        roles={
            "control-plane": [h.name for h in cluster.control_plane],
            "etcd": [h.name for h in cluster.etcd],
            "worker": [h.name for h in cluster.workers],
            "gpu": [h.name for h in cluster.gpu_hosts],
        },
        run=plan_operation(ws, tree, op),
        notes=[*notes, *notes_for(cluster)],
    )
