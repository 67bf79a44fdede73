"""A node command's change to the spec file, made during its run (remove-node, upgrade)."""

from __future__ import annotations

from deepctl.spec.edit import write_spec
from deepctl.stages.context import StageContext
from deepctl.workspace import open_workspace


def apply_spec_text(ctx: StageContext, new_text: str) -> None:
    """Write ``new_text`` as the spec (backup beside it), reload it, and render it into the
    run's own inventory for the playbooks that follow."""
    path = ctx.ws.spec.path
    write_spec(path, new_text)
    ctx.ws = open_workspace(path, ctx.ws.state.root)
    ctx.ansible.use(ctx.ws)
