"""``add-node`` and ``remove-node``: change one host, leave the others alone.

add-node: the host is added to the spec file (comments kept, ``<spec>.bak`` beside it) and
marked pending in the state; then its stages run (:func:`~deepctl.stages.sequences.add_node_stages`):
preflight of the new host, Kubespray's documented procedure, GPU readiness, verify. A failed
add-node leaves the host pending; the same add-node resumes it at the failed stage.

remove-node: refused before anything runs when it would remove the last or the first
control plane, break etcd quorum, or leave the spec invalid.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from deepctl.engine.display import Display
from deepctl.engine.runner import refuse_out_of_order
from deepctl.engine.session import NO_SELECTION, Operation, Selection, run_operation
from deepctl.errors import SpecError, UsageError
from deepctl.names import summary
from deepctl.spec.edit import add_host_text, remove_host_text, write_spec
from deepctl.spec.loader import LoadedSpec, load_spec_text
from deepctl.spec_keys import require_usable_keys
from deepctl.stages.context import StageContext
from deepctl.stages.sequences import add_node_stages, remove_node_stages
from deepctl.state.pending import load_pending, set_pending
from deepctl.state.record import RunRecord, utc_now
from deepctl.workspace import Workspace, open_workspace


def spec_with_host(ws: Workspace, entry: dict[str, Any]) -> tuple[str, LoadedSpec]:
    """The spec text with ``entry`` added, and what it loads to; every problem before writing."""
    new_text = add_host_text(ws.spec.path.read_text(encoding="utf-8"), entry)
    try:
        return new_text, load_spec_text(new_text, ws.spec.path)
    except SpecError as error:
        hint = error.hint
        if "etcd" in entry.get("roles", []):
            hint = ("etcd needs an odd number of members, so add-node cannot add one: add two "
                    "etcd hosts to the spec and follow Kubespray's 'Adding an etcd node' "
                    "(docs/operations/nodes.md), or add this host without --role etcd")
        raise SpecError(f"with {entry['name']} added, the spec would be invalid: "
                        f"{error.message}", error.problems, hint) from None


def add_node_operation(ws: Workspace, entry: dict[str, Any], *, accept_new_hosts: bool = False,
                       selection: Selection = NO_SELECTION) -> Operation:
    name = str(entry["name"])
    host = ws.cluster.host(name)
    assert host is not None, "the host is in the spec by now"

    def done(ctx: StageContext) -> None:
        set_pending(ctx.ws.state, name, None)

    return Operation(
        "add-node", add_node_stages(name, host.roles),
        f"deepctl add-node {ws.spec.path} --name {name} --address {host.address} --yes",
        selection, params={"host": entry}, accept_new_hosts=accept_new_hosts, on_success=done,
        in_order=True)


def prepare_add(ws: Workspace, entry: dict[str, Any], display: Display | None,
                write: bool) -> Workspace:
    """The workspace with the host in its spec: written (and marked pending) when ``write``,
    else only in memory (``--dry-run``). Refuses a host already in the cluster; a pending
    one is returned as it is (the run says it resumes: :func:`add_node`)."""
    name = str(entry["name"])
    if ws.cluster.host(name) is not None:
        if name in load_pending(ws.state):
            return ws
        raise UsageError(f"host {name!r} is already in the spec and in the cluster",
                         hint="pick another --name, or remove it first with remove-node")
    new_text, loaded = spec_with_host(ws, entry)
    if not write:
        return Workspace(loaded, ws.state)
    require_usable_keys(ws.spec)  # before the spec is written or any host contacted
    write_spec(ws.spec.path, new_text)
    set_pending(ws.state.create(), name, {"since": utc_now(), "entry": entry})
    if display is not None:
        display.message(f"added {name} to {ws.spec.path} (backup: {ws.spec.path.name}.bak)")
    return open_workspace(ws.spec.path, ws.state.root)


def refuse_fresh_selection(ws: Workspace, entry: dict[str, Any], selection: Selection) -> None:
    """A host not yet pending has no stage done: refuse names that are not add-node's stages
    and a selection that leaves out a stage the selected ones build on."""
    preview = prepare_add(ws, entry, None, write=False)
    op = add_node_operation(preview, entry, selection=selection)
    refuse_out_of_order(op.command, op.stages, op.choices(), preview.cluster, set(), None)


def add_node(spec: Path, state_dir: Path | None, entry: dict[str, Any], display: Display,
             *, accept_new_hosts: bool = False, selection: Selection = NO_SELECTION
             ) -> RunRecord:
    ws = open_workspace(spec, state_dir, create=False)  # the lock creates it
    name = str(entry["name"])
    pending = name in load_pending(ws.state)
    if selection.names() and not pending:
        refuse_fresh_selection(ws, entry, selection)  # before the spec is written
    ws = prepare_add(ws, entry, display, write=True)
    op = add_node_operation(ws, entry, accept_new_hosts=accept_new_hosts, selection=selection)
    if pending and ws.cluster.host(name) is not None:
        op = replace(op, notes=(f"resuming add-node {name}: it is in the spec and still "
                                "pending",))
    return run_operation(ws, op, display)


def check_removal(ws: Workspace, name: str) -> str:
    """The spec text without ``name``; refused when the removal would break the cluster.

    Refuses the last control plane, the first one (Kubespray cannot remove it), a removal
    that breaks etcd quorum, and one that leaves the spec invalid (an even number of etcd
    members, no worker left, an NFS server that is gone...).
    """
    host = ws.cluster.host(name)
    if host is None:
        raise UsageError(f"no host named {name!r} in {ws.spec.path}",
                         hint=f"hosts are: {summary([h.name for h in ws.cluster.spec.hosts])}")
    control = ws.cluster.control_plane
    if "control-plane" in host.roles and len(control) == 1:
        raise UsageError(f"{name} is the last control plane; removing it ends the cluster",
                         hint=f"use `deepctl reset {ws.spec.path}` to tear the cluster down")
    members = len(ws.cluster.etcd)
    if "etcd" in host.roles and members - 1 < members // 2 + 1:
        raise UsageError(
            f"removing {name} leaves {members - 1} of {members} etcd member(s): etcd loses "
            "quorum", hint="add etcd members first (etcd needs 3 to lose one), then remove this one")
    if control[0].name == name:
        raise UsageError(
            f"{name} is the first control plane, which Kubespray cannot remove",
            hint=f"move {name} below the other control planes in spec.hosts, run `deepctl deploy "
            f"{ws.spec.path}` (cluster.yml with the new order), then remove it "
            "(Kubespray docs/operations/nodes.md)")
    new_text = remove_host_text(ws.spec.path.read_text(encoding="utf-8"), name)
    try:
        load_spec_text(new_text, ws.spec.path)
    except SpecError as error:
        raise SpecError(f"without {name} the spec would be invalid: {error.message}",
                        error.problems, "nothing was changed; see the problems above") from None
    return new_text


def remove_node_operation(ws: Workspace, name: str, force: bool,
                          selection: Selection = NO_SELECTION) -> Operation:
    check_removal(ws, name)
    return Operation("remove-node", remove_node_stages(name, force),
                     f"deepctl remove-node {ws.spec.path} {name}"
                     + (" --force" if force else "") + " --yes",
                     selection, params={"node": name, "force": force}, in_order=True)


def remove_node(spec: Path, state_dir: Path | None, name: str, display: Display,
                *, force: bool = False, selection: Selection = NO_SELECTION) -> RunRecord:
    ws = open_workspace(spec, state_dir, create=False)  # the lock creates it
    op = remove_node_operation(ws, name, force, selection)
    require_usable_keys(ws.spec)  # one message for a bad key, before any host is contacted
    return run_operation(ws, op, display)
