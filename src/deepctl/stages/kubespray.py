"""Stage ``kubespray``: Kubespray's ``cluster.yml`` on every host."""

from __future__ import annotations

from typing import Any

from deepctl.inventory import render_inventory
from deepctl.spec.models import Cluster
from deepctl.stages.context import StageContext
from deepctl.stages.stage import Stage

PLAYBOOK = "cluster.yml"


def tree_inputs(ctx: StageContext) -> dict[str, Any]:
    """What a Kubespray run depends on: the inventory and the Kubespray tree."""
    return {
        "inventory": render_inventory(ctx.cluster, ctx.ws.spec.path.name),
        "kubespray": {"path": str(ctx.tree.path), "tag": ctx.tree.tag},
    }


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
    run=_cluster_yml, after=("inventory", "offline-ca"),
    inputs=tree_inputs,
)
