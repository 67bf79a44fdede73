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
    enabled: bool


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
                 "enabled": s.enabled}
                for s in self.stages
            ],
            "notes": self.notes,
        }


def build_plan(cluster: Cluster, tree: KubesprayTree | None) -> Plan:
    tag = cluster.spec.kubespray.version
    source = tree.describe() if tree else (
        f"Kubespray {tag}: not present yet; will be cloned into {cache_path(tag)}"
    )
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
    stages = [
        PlannedStage(s.name, s.title, s.describe(cluster), s.enabled(cluster))
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
