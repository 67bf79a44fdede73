"""What ``deploy`` would do, as data (``deepctl deploy --dry-run`` prints it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from deepctl.kubespray_source import KubesprayTree, cache_path
from deepctl.spec.models import Cluster
from deepctl.stages.catalog import ordered


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


def build_plan(cluster: Cluster, tree: KubesprayTree | None,
               left_out: dict[str, str] | None = None) -> Plan:
    """The plan; ``left_out`` maps stages the selection leaves out to why (``not in --only``)."""
    left_out = left_out or {}
    tag = cluster.spec.kubespray.version
    source = tree.describe() if tree else (
        f"Kubespray {tag}: not present yet; will be cloned into {cache_path(tag)}"
    )
    notes = []
    cps = cluster.control_plane
    if len(cps) > 1 and cluster.spec.kubernetes.api_server_load_balancer is None:
        notes.append(
            f"HA control plane ({len(cps)} nodes) without apiServerLoadBalancer: Kubespray runs "
            "a local API load balancer (nginx) on every node"
        )
    if cluster.spec.ssh.bastion is not None:
        notes.append(f"all SSH goes through the bastion {cluster.spec.ssh.bastion.address}")
    stages = [
        PlannedStage(s.name, s.title, s.describe(cluster), s.enabled(cluster),
                     left_out.get(s.name))
        for s in ordered()
    ]
    return Plan(
        cluster=cluster.name,
        kubernetes_version=cluster.spec.kubernetes.version,
        kubespray_tag=tag,
        kubespray_source=source,
        roles={
            "control-plane": [h.name for h in cps],
            "etcd": [h.name for h in cluster.etcd],
            "worker": [h.name for h in cluster.workers],
            "gpu": [h.name for h in cluster.gpu_hosts],
        },
        playbooks=["cluster.yml"],
        stages=stages,
        notes=notes,
    )
