"""Stage ``inventory``: publish the run's inventory as the cluster's current one.

Every run renders its own inventory (``runs/<id>/inventory``, what its playbooks read)
before its first stage. This stage records that rendering as done and copies it to
``<state>/inventory`` for people to read; its inputs change whenever the rendering does.
"""

from __future__ import annotations

from typing import Any

from deepctl import __version__
from deepctl.stages.context import PlanContext, StageContext
from deepctl.stages.stage import Stage


def _inputs(ctx: PlanContext) -> Any:
    return {"files": ctx.ws.inventory, "deepctl": __version__}


def _publish(ctx: StageContext) -> None:
    ctx.ws.render_inventory()


def _missing(ctx: PlanContext) -> str | None:
    return None if ctx.ws.state.hosts_file.exists() else "inventory missing"


INVENTORY = Stage(
    "inventory", "Render Kubespray inventory",
    lambda c: "render hosts.yaml and group_vars for this run, and keep a copy in the state "
    "directory",
    run=_publish, after=("preflight",), inputs=_inputs,
    rerun=_missing, on_established=_publish,
)
