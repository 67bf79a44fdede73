"""``add-node`` and ``remove-node``: change one host, leave the others alone.

add-node: the host is added to the spec file (comments kept, ``<spec>.bak`` beside it),
marked pending in ``<state>/pending-nodes.json``, preflighted alone, then Kubespray's
``playbooks/facts.yml`` runs on all hosts and ``scale.yml --limit NEW`` on the new worker
(``cluster.yml`` for a control-plane or etcd host, Kubespray's documented procedure). A
failed add-node leaves the host pending; running the same add-node again resumes it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from deepctl.engine.display import Display
from deepctl.engine.pipeline import load_ledger, save_ledger, stage_hashes
from deepctl.engine.runrecord import RunRecord, utc_now
from deepctl.engine.session import run_session
from deepctl.errors import UsageError
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
    load_spec_text(new_text, ws.spec.path)  # every problem, with positions, before writing
    write_spec(ws.spec.path, new_text)
    _set_pending(ws.state, str(entry["name"]), {"since": utc_now(), "entry": entry})
    return open_workspace(ws.spec.path, ws.state.root)


def add_node(spec: Path, state_dir: Path | None, entry: dict[str, Any], display: Display,
             *, accept_new_hosts: bool = False) -> RunRecord:
    ws = open_workspace(spec, state_dir)
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
    control = bool({"control-plane", "etcd"} & set(host.roles))

    def body(ctx: StageContext) -> None:
        _stage(ctx, "preflight", "running")
        run_checks(ctx, hosts=[name])
        _stage(ctx, "preflight", "succeeded")
        ctx.ws.render_inventory()
        _stage(ctx, "kubespray", "running")
        if control:  # Kubespray: new control-plane/etcd members need cluster.yml
            ctx.ansible.run("kubespray", "cluster.yml")
        else:
            ctx.ansible.run("kubespray", "playbooks/facts.yml")
            ctx.ansible.run("kubespray", "scale.yml", limit=name)
        _stage(ctx, "kubespray", "succeeded")
        mark_cluster_current(ctx)
        _set_pending(ctx.ws.state, name, None)

    return run_session(ws, "add-node", body, display=display, args={"host": entry},
                       accept_new_hosts=accept_new_hosts,
                       resume_hint=f"deepctl add-node {spec} --name {name} ...")


def check_removal(ws: Workspace, name: str) -> None:
    """Refuse to remove the last control plane or to break etcd quorum."""
    host = ws.cluster.host(name)
    if host is None:
        raise UsageError(f"no host named {name!r} in {ws.spec.path}",
                         hint=f"hosts are: {', '.join(h.name for h in ws.cluster.spec.hosts)}")
    if "control-plane" in host.roles and len(ws.cluster.control_plane) == 1:
        raise UsageError(f"{name} is the last control plane; removing it ends the cluster",
                         hint=f"use `deepctl reset {ws.spec.path}` to tear the cluster down")
    members = len(ws.cluster.etcd)
    if "etcd" in host.roles and members - 1 < members // 2 + 1:
        raise UsageError(
            f"removing {name} leaves {members - 1} of {members} etcd member(s): etcd loses "
            "quorum", hint="add an etcd member first (add-node --role etcd), then remove this one")


def remove_node(spec: Path, state_dir: Path | None, name: str, display: Display,
                *, force: bool = False) -> RunRecord:
    ws = open_workspace(spec, state_dir)
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
