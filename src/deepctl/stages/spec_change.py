"""A node command's change to the spec file, made during its run (add-node, remove-node,
upgrade)."""

from __future__ import annotations

from pathlib import Path

from deepctl.clusterspec.edit import add_host_text, write_spec
from deepctl.clusterspec.loader import load_spec_text, read_spec_text
from deepctl.executor.target import keep_executor
from deepctl.stages.context import StageContext
from deepctl.stages.stage import Stage
from deepctl.workspace import open_workspace


def apply_spec_text(ctx: StageContext, new_text: str) -> None:
    """Write ``new_text`` as the spec (backup beside it), reload it, and render it into the
    run's own inventory for the playbooks that follow."""
    write_spec(ctx.ws.spec.path, new_text)
    reload_spec(ctx)


def reload_spec(ctx: StageContext) -> None:
    """The run goes on with the spec file as it is on disk, rendered into its inventory,
    and with the executor it started with (``--executor`` is not in the file)."""
    ctx.ws = keep_executor(open_workspace(ctx.ws.spec.path, ctx.ws.state.root), ctx.ws)
    ctx.ansible.use(ctx.ws)


def spec_names_host(path: Path, name: str) -> bool:
    """Whether the spec file on disk (not the run's view of it) has a host ``name``."""
    return load_spec_text(path.read_text(encoding="utf-8"), path).cluster.host(name) is not None


def write_new_host(name: str, after: str) -> Stage:
    """add-node's ``spec``: once ``name`` has joined (stage ``after``), its entry (the run's
    ``host`` parameter) is appended to the spec file; until then it is pending outside it."""

    def run(ctx: StageContext) -> None:
        path = ctx.ws.spec.path
        if spec_names_host(path, name):
            ctx.record.log(f"{path} already names {name}")
            return
        new_text = add_host_text(read_spec_text(path), dict(ctx.params["host"]))
        load_spec_text(new_text, path)  # a spec edited since the run started: refused unwritten
        apply_spec_text(ctx, new_text)
        said = f"{name} has joined: added it to {path} (backup: {path.name}.bak)"
        ctx.record.log(said)
        ctx.display.message(said)

    return Stage(
        "spec", f"Write {name} into the spec",
        lambda c: f"append {name}'s entry to the spec file (backup beside it), comments and "
        "layout kept",
        run=run, after=(after,), inputs=lambda ctx: {"node": name, "host": ctx.params.get("host")},
        rerun=lambda ctx: None if spec_names_host(ctx.ws.spec.path, name)
        else "the spec does not name the host yet")
