"""Stage ``inventory``: render the Kubespray inventory into the state directory."""

from __future__ import annotations

from typing import Any

from deepctl import __version__
from deepctl.inventory import render_inventory
from deepctl.stages.base import Stage, StageContext


def rendered(ctx: StageContext) -> dict[str, str]:
    return render_inventory(ctx.cluster, ctx.ws.spec.path.name)


class InventoryStage(Stage):
    name = "inventory"

    def inputs(self, ctx: StageContext) -> Any:
        return {"files": rendered(ctx), "deepctl": __version__}

    def should_run(self, ctx: StageContext, previous_hash: str | None, current_hash: str
                   ) -> tuple[bool, str]:
        if not ctx.ws.state.hosts_file.exists():
            return True, "inventory missing"
        return super().should_run(ctx, previous_hash, current_hash)

    def run(self, ctx: StageContext) -> None:
        ctx.ws.render_inventory()
