"""Stage ``kubespray``: Kubespray's ``cluster.yml`` on every host."""

from __future__ import annotations

from typing import Any

from deepctl.clusterspec.models import Cluster
from deepctl.kubespray.source import cache_path
from deepctl.stages.context import PlanContext, StageContext
from deepctl.stages.stage import Stage, every_host

PLAYBOOK = "cluster.yml"


def tree_inputs(ctx: PlanContext) -> dict[str, Any]:
    """What a Kubespray run depends on: the inventory and the Kubespray tree (for a dry run
    before the tree is fetched: where it will be)."""
    tag = ctx.cluster.spec.kubespray.version
    tree = ({"path": str(ctx.tree.path), "tag": ctx.tree.tag} if ctx.tree is not None
            else {"path": str(cache_path(tag)), "tag": tag})
    return {"inventory": ctx.ws.inventory, "kubespray": tree}


def _cluster_yml(ctx: StageContext) -> None:
    ctx.ansible.run("kubespray", PLAYBOOK)


def _describe(c: Cluster) -> str:
    k8s = c.spec.kubernetes
    offline = c.spec.offline
    mirrors = (f"; files from {offline.files}, images from {offline.registry}"
               if offline is not None else "")
    return (f"ansible-playbook cluster.yml on {len(c.spec.hosts)} host(s): Kubernetes "
            f"{k8s.version}, {k8s.network_plugin}, {k8s.container_runtime}{mirrors}")


KUBESPRAY = Stage(
    "kubespray", "Install Kubernetes (Kubespray cluster.yml)", _describe,
    run=_cluster_yml, after=("inventory", "offline-ca"), hosts=every_host, playbook=PLAYBOOK,
    inputs=tree_inputs,
)
