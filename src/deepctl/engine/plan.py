"""What a command would do, as data (``--dry-run`` of deploy and the node commands prints it).

Built from the same stage list the command runs, so the plan cannot drift from the run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from deepctl.engine.selection import StageChoice
from deepctl.kubespray_source import KubesprayTree, cache_path
from deepctl.spec.models import Cluster
from deepctl.stages.stage import Stage


@dataclass
class PlannedStage:
    name: str
    title: str
    description: str
    enabled: bool  # the spec turns it on
    reason: str | None = None  # why --from/--only/--skip leave it out (None: selected)

    @property
    def selected(self) -> bool:
        return self.reason is None

    @property
    def runs(self) -> bool:
        return self.enabled and self.selected


@dataclass
class Plan:
    command: str
    cluster: str
    kubernetes_version: str
    kubespray_tag: str
    kubespray_source: str
    roles: dict[str, list[str]]
    playbooks: list[str]
    stages: list[PlannedStage]
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "cluster": self.cluster,
            "kubernetesVersion": self.kubernetes_version,
            "kubespray": {"tag": self.kubespray_tag, "source": self.kubespray_source},
            "roles": self.roles,
            "playbooks": self.playbooks,
            "stages": [
                {"name": s.name, "title": s.title, "description": s.description,
                 "enabled": s.enabled, "selected": s.selected, "reason": s.reason,
                 "runs": s.runs}
                for s in self.stages
            ],
            "notes": self.notes,
        }


def planned(cluster: Cluster, stages: Sequence[Stage], choices: Sequence[StageChoice]
            ) -> list[PlannedStage]:
    chosen = {c.name: c for c in choices}
    out = []
    for stage in stages:
        enabled = stage.enabled(cluster)
        choice = chosen.get(stage.name)
        why = choice.reason if choice is not None else None
        out.append(PlannedStage(stage.name, stage.title, stage.describe(cluster), enabled, why))
    return out


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


PLAYBOOK_OF = {"kubespray": "cluster.yml", "facts": "playbooks/facts.yml", "scale": "scale.yml",
               "remove": "remove-node.yml", "upgrade": "upgrade-cluster.yml", "reset": "reset.yml"}


def build_plan(cluster: Cluster, tree: KubesprayTree | None, stages: Sequence[Stage],
               choices: Sequence[StageChoice] = (), command: str = "deploy",
               notes: Sequence[str] = ()) -> Plan:
    tag = cluster.spec.kubespray.version
    source = tree.describe() if tree else (
        f"Kubespray {tag}: not present yet; will be cloned into {cache_path(tag)}"
    )
    steps = planned(cluster, stages, choices)
    playbooks = [PLAYBOOK_OF[s.name] for s in steps if s.name in PLAYBOOK_OF and s.runs]
    return Plan(
        command=command,
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
        playbooks=playbooks,
        stages=steps,
        notes=[*notes, *notes_for(cluster)],
    )
