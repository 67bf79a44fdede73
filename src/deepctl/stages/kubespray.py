"""Stage ``kubespray``: Kubespray's ``cluster.yml`` on every host."""

from __future__ import annotations

from typing import Any

from deepctl.inventory import render_inventory
from deepctl.stages.base import Stage, StageContext

PLAYBOOK = "cluster.yml"


def tree_inputs(ctx: StageContext) -> dict[str, Any]:
    """What a Kubespray run depends on: the inventory and the Kubespray tree."""
    return {
        "inventory": render_inventory(ctx.cluster, ctx.ws.spec.path.name),
        "kubespray": {"path": str(ctx.tree.path), "tag": ctx.tree.tag},
    }


class KubesprayStage(Stage):
    name = "kubespray"

    def inputs(self, ctx: StageContext) -> Any:
        return tree_inputs(ctx)

    def run(self, ctx: StageContext) -> None:
        ctx.ansible.run(self.name, PLAYBOOK)
