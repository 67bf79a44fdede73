"""One engine run from start to end: lock, run record, signals, Ansible settings, cleanup.

Every command that changes hosts (deploy, add-node, remove-node, reset, upgrade) is a
``body`` run inside :func:`run_session`; the session records how it ended whatever happens.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from deepctl import kubespray_source
from deepctl.engine.display import Display
from deepctl.engine.lock import cluster_lock
from deepctl.engine.orphans import stop_leftovers
from deepctl.engine.playbooks import Ansible, PlaybookFailed
from deepctl.engine.runrecord import RunRecord, mark_interrupted, start_run
from deepctl.engine.signals import CancelToken, cancel_on_signals, close_ssh_masters
from deepctl.errors import Canceled, DeepctlError
from deepctl.kubespray_source import KubesprayTree
from deepctl.stages.base import StageContext, inputs_hash
from deepctl.workspace import Workspace


def spec_hash(ws: Workspace) -> str:
    """The spec's meaning (not its comments or layout), hashed."""
    return inputs_hash(ws.cluster.model_dump(mode="json"))


def require_tree(ws: Workspace) -> KubesprayTree:
    tree = kubespray_source.find(ws.cluster, ws.spec.directory)
    if tree is None:
        raise kubespray_source.not_found_error(ws.cluster.spec.kubespray.version)
    return tree


def stage_with(record: RunRecord, statuses: tuple[str, ...]) -> str | None:
    for name, entry in record.data["stages"].items():
        if entry.get("status") in statuses:
            return str(name)
    return None


def run_session(ws: Workspace, command: str, body: Callable[[StageContext], None], *,
                display: Display, args: dict[str, Any] | None = None,
                accept_new_hosts: bool = False, resume_hint: str | None = None) -> RunRecord:
    """Run ``body`` under the cluster lock as a recorded run; raise its error, recorded."""
    tree = require_tree(ws)
    with cluster_lock(ws.state, command) as lock:
        if lock.taken_over is not None:
            dead = lock.taken_over
            marked = mark_interrupted(ws.state, dead.pid, dead.host)
            display.message(f"took over the cluster lock left by PID {dead.pid} on {dead.host} "
                            f"(that process is gone)" + "".join(
                                f"; run {run_id} recorded as interrupted" for run_id in marked))
            stopped = stop_leftovers(ws.state.root)
            if stopped:
                display.message("stopped Ansible processes the interrupted run left behind: "
                                f"PID {', '.join(map(str, stopped))}")
        record = start_run(ws.state, command, ws.spec.path, spec_hash(ws), args)
        token = CancelToken()
        ansible = Ansible(ws.state, record, tree, ws.cluster, display, token)
        ctx = StageContext(ws, tree, record, display, token, ansible, accept_new_hosts)
        try:
            _run_body(ctx, body, resume_hint)
        finally:
            close_ssh_masters(ansible.settings.control_dir)
            display.close()
        return record


def _run_body(ctx: StageContext, body: Callable[[StageContext], None],
              resume_hint: str | None) -> None:
    record = ctx.record
    where = f"log: {record.log_path}"
    resume = f"; resume with: {resume_hint}" if resume_hint else ""
    try:
        with cancel_on_signals(ctx.token, ctx.display.message):
            ctx.ansible.prepare()
            # Every playbook sees the inventory of the spec as it is now, even when the
            # stage that renders it is not selected (--only/--from/--skip, node commands).
            ctx.ws.render_inventory()
            body(ctx)
    except (Canceled, KeyboardInterrupt):
        stage = stage_with(record, ("canceled", "running"))
        how = "stopped at once" if ctx.token.hard else "canceled"
        record.finish("canceled", failed_stage=stage, error=how if ctx.token.hard else None)
        raise Canceled(f"{how}{' during stage ' + stage if stage else ''}; run "
                       f"{record.id} recorded as canceled", hint=where + resume) from None
    except DeepctlError as error:
        stage = stage_with(record, ("failed", "running"))
        record.finish("failed", failed_stage=stage, error=error.message)
        if isinstance(error, PlaybookFailed):
            ctx.display.failure(error.report(record.log_path, resume_hint, ctx.ws.spec.path))
        error.hint = "; ".join(p for p in (error.hint, where + resume) if p)
        raise
    except BaseException as error:
        record.finish("failed", failed_stage=stage_with(record, ("running",)),
                      error=f"internal error: {type(error).__name__}: {error}")
        raise
    record.finish("succeeded")
