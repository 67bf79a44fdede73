"""A node command's change to the spec file, made during its run (add-node, remove-node,
upgrade)."""

from __future__ import annotations

from pathlib import Path

from deepctl.clusterspec.edit import add_host_text, write_spec
from deepctl.clusterspec.loader import load_spec_text, read_spec_text
from deepctl.executor.target import keep_executor
from deepctl.stages.context import StageContext
from deepctl.stages.stage import Stage, named
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


def missing_hosts(path: Path, names: tuple[str, ...]) -> list[str]:
    """The ``names`` the spec file on disk does not have (yet)."""
    cluster = load_spec_text(path.read_text(encoding="utf-8"), path).cluster
    return [n for n in names if cluster.host(n) is None]


def write_new_host(names: tuple[str, ...], after: str) -> Stage:
    """add-node's ``spec``: once the host(s) have joined (stage ``after``), their entries (the
    run's ``host`` parameter, or ``hosts`` for a batch) are appended to the spec file, in one
    write; until then they are pending outside it."""
    name, batch = named(names), len(names) > 1

    def run(ctx: StageContext) -> None:
        path = ctx.ws.spec.path
        missing = missing_hosts(path, names)
        if not missing:
            ctx.record.log(f"{path} already names {name}")
            return
        entries = ctx.params["hosts"] if batch else [ctx.params["host"]]
        new_text = read_spec_text(path)
        for entry in entries:
            if entry["name"] in missing:
                new_text = add_host_text(new_text, dict(entry))
        load_spec_text(new_text, path)  # a spec edited since the run started: refused unwritten
        apply_spec_text(ctx, new_text)
        said = (f"{name} have joined: added them to {path}" if batch else
                f"{name} has joined: added it to {path}") + f" (backup: {path.name}.bak)"
        ctx.record.log(said)
        ctx.display.message(said)

    return Stage(
        "spec", f"Write {name} into the spec",
        lambda c: f"append {name}'s {'entries' if batch else 'entry'} to the spec file (backup "
        "beside it), comments and layout kept",
        run=run, after=(after,),
        inputs=lambda ctx: {"nodes": list(names), "hosts": ctx.params.get("hosts")} if batch
        else {"node": name, "host": ctx.params.get("host")},
        rerun=lambda ctx: None if not missing_hosts(ctx.ws.spec.path, names)
        else f"the spec does not name {'every' if batch else 'the'} host yet")
