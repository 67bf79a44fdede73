"""``add-node`` and ``remove-node``: change one host, leave the others alone.

add-node: the host is added to the spec file (comments kept, ``<spec>.bak`` beside it),
marked pending in ``<state>/pending-nodes.json``, preflighted alone, then Kubespray's
documented procedure runs (:mod:`deepctl.engine.node_steps`) and the node-scoped checks
(GPU readiness). A failed add-node leaves the host pending; the same add-node resumes it.

remove-node: refused before anything runs when it would remove the last or the first
control plane, break etcd quorum, or leave the spec invalid.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from deepctl.engine.display import Display
from deepctl.engine.node_steps import add_node_steps, wait_for_gpus
from deepctl.engine.pipeline import load_ledger, save_ledger, stage_hashes
from deepctl.engine.runrecord import RunRecord, utc_now
from deepctl.engine.session import run_session
from deepctl.errors import SpecError, UsageError
from deepctl.fsutil import atomic_write_json
from deepctl.spec.edit import add_host_text, remove_host_text, write_spec
from deepctl.spec.loader import load_spec_text
from deepctl.stages.base import StageContext
from deepctl.stages.catalog import ordered
from deepctl.stages.preflight import run_checks
from deepctl.statedir import StateDir
from deepctl.workspace import Workspace, open_workspace

PENDING_FILE = "pending-nodes.json"
KUBESPRAY_STAGES = ("inventory", "kubespray", "kubeconfig")


def load_pending(state: StateDir) -> dict[str, Any]:
    try:
        data = json.loads((state.root / PENDING_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _set_pending(state: StateDir, name: str, value: dict[str, Any] | None) -> None:
    pending = load_pending(state)
    if value is None:
        pending.pop(name, None)
    else:
        pending[name] = value
    atomic_write_json(state.root / PENDING_FILE, pending)


def mark_cluster_current(ctx: StageContext) -> None:
    """After a node operation the cluster matches the spec: record Kubespray's stages so."""
    hashes = stage_hashes(ctx, ordered())
    ledger = load_ledger(ctx.ws.state)
    for name in KUBESPRAY_STAGES:
        ledger[name] = {"inputs_hash": hashes[name], "finished_at": utc_now(),
                        "run_id": ctx.record.id}
    save_ledger(ctx.ws.state, ledger)


def _stage(ctx: StageContext, name: str, status: str) -> None:
    ctx.record.set_stage(name, status)
    if status == "running":
        ctx.display.stage_started(name, name.replace("-", " "))
    else:
        ctx.display.stage_finished(name, status, None, None)


def _add_to_spec(ws: Workspace, entry: dict[str, Any]) -> Workspace:
    text = ws.spec.path.read_text(encoding="utf-8")
    new_text = add_host_text(text, entry)
    try:
        load_spec_text(new_text, ws.spec.path)  # every problem, with positions, before writing
    except SpecError as error:
        hint = error.hint
        if "etcd" in entry.get("roles", []):
            hint = ("etcd needs an odd number of members, so add-node cannot add one: add two "
                    "etcd hosts to the spec and follow Kubespray's 'Adding an etcd node' "
                    "(docs/operations/nodes.md), or add this host without --role etcd")
        raise SpecError(f"with {entry['name']} added, the spec would be invalid: "
                        f"{error.message}", error.problems, hint) from None
    write_spec(ws.spec.path, new_text)
    _set_pending(ws.state, str(entry["name"]), {"since": utc_now(), "entry": entry})
    return open_workspace(ws.spec.path, ws.state.root)


def add_node(spec: Path, state_dir: Path | None, entry: dict[str, Any], display: Display,
             *, accept_new_hosts: bool = False) -> RunRecord:
    ws = open_workspace(spec, state_dir, create=False)  # the lock creates it
    name = str(entry["name"])
    if ws.cluster.host(name) is None:
        ws = _add_to_spec(ws, entry)
        display.message(f"added {name} to {spec} (backup: {spec.name}.bak)")
    elif name in load_pending(ws.state):
        display.message(f"resuming add-node {name}: it is in the spec and still pending")
    else:
        raise UsageError(f"host {name!r} is already in the spec and in the cluster",
                         hint="pick another --name, or remove it first with remove-node")
    host = ws.cluster.host(name)
    assert host is not None
    steps = add_node_steps(name, host.roles)
    wait_gpus = host.gpu and ws.cluster.spec.addons.gpu.enabled

    def body(ctx: StageContext) -> None:
        _stage(ctx, "preflight", "running")
        run_checks(ctx, hosts=[name])
        _stage(ctx, "preflight", "succeeded")
        _stage(ctx, "kubespray", "running")
        for step in steps:
            ctx.ansible.run("kubespray", step.playbook, limit=step.limit,
                            extravars=step.extravars or None)
        _stage(ctx, "kubespray", "succeeded")
        mark_cluster_current(ctx)
        if wait_gpus:
            _stage(ctx, "gpu-ready", "running")
            wait_for_gpus(ctx, "gpu-ready", name)
            _stage(ctx, "gpu-ready", "succeeded")
        _set_pending(ctx.ws.state, name, None)

    return run_session(ws, "add-node", body, display=display, args={"host": entry},
                       accept_new_hosts=accept_new_hosts,
                       resume_hint=f"deepctl add-node {spec} --name {name} --address "
                       f"{host.address} --yes")


def check_removal(ws: Workspace, name: str) -> str:
    """The spec text without ``name``; refused when the removal would break the cluster.

    Refuses the last control plane, the first one (Kubespray cannot remove it), a removal
    that breaks etcd quorum, and one that leaves the spec invalid (an even number of etcd
    members, no worker left, an NFS server that is gone...).
    """
    host = ws.cluster.host(name)
    if host is None:
        raise UsageError(f"no host named {name!r} in {ws.spec.path}",
                         hint=f"hosts are: {', '.join(h.name for h in ws.cluster.spec.hosts)}")
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


def remove_node(spec: Path, state_dir: Path | None, name: str, display: Display,
                *, force: bool = False) -> RunRecord:
    ws = open_workspace(spec, state_dir, create=False)  # the lock creates it
    check_removal(ws, name)
    extravars: dict[str, Any] = {"node": name, "skip_confirmation": True}
    if force:
        extravars.update(reset_nodes=False, allow_ungraceful_removal=True)

    def body(ctx: StageContext) -> None:
        _stage(ctx, "kubespray", "running")
        ctx.ansible.run("kubespray", "remove-node.yml", extravars=extravars)
        _stage(ctx, "kubespray", "succeeded")
        text = ctx.ws.spec.path.read_text(encoding="utf-8")
        write_spec(ctx.ws.spec.path, remove_host_text(text, name))
        ctx.ws = open_workspace(ctx.ws.spec.path, ctx.ws.state.root)
        ctx.ws.render_inventory()
        mark_cluster_current(ctx)
        ctx.record.log(f"removed {name} from {ctx.ws.spec.path}")

    return run_session(ws, "remove-node", body, display=display,
                       args={"node": name, "force": force},
                       resume_hint=f"deepctl remove-node {spec} {name}"
                       + (" --force" if force else ""))
