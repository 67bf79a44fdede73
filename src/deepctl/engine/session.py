"""One engine run from start to end: lock, run record, signals, Ansible, the stages, cleanup.

Every command that changes hosts (deploy, add-node, remove-node, upgrade, reset) is a
:class:`Operation`: its list of stages, the user's stage selection and its arguments, run by
:func:`run_operation` the same way: one lock, one run record with per-stage durations, one
progress display, one way to resume, and old runs pruned after it.

What a run does is decided once, before it starts: :func:`plan_operation` makes its
:class:`~deepctl.engine.runplan.RunPlan` (``--dry-run`` prints the same plan), and the runner
carries it out. The engine knows no command by name: what differs between commands (the
ledger prefix, forgetting on success, what a stage establishes) is a field of
:class:`Operation`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from deepctl.engine.display import Display
from deepctl.engine.failure_report import run_failure
from deepctl.engine.lock import cluster_lock
from deepctl.engine.orphans import stop_leftovers
from deepctl.engine.playbooks import Ansible
from deepctl.engine.runner import Ledgered, run_plan
from deepctl.engine.runplan import RunPlan, make_plan
from deepctl.engine.selection import StageChoice, select_stages
from deepctl.engine.signals import CancelToken, cancel_on_signals, close_ssh_masters
from deepctl.errors import Canceled, DeepctlError, PlaybookFailed
from deepctl.kubespray import source as kubespray_source
from deepctl.kubespray.source import KubesprayTree
from deepctl.ssh.spec_keys import require_usable_keys
from deepctl.stages.context import PlanContext, StageContext
from deepctl.stages.stage import Stage, check_stage_names, inputs_hash
from deepctl.state.ledger import forget, load_ledger
from deepctl.state.record import RunRecord, last_run, mark_interrupted, start_run
from deepctl.state.retention import keep_from_env, prune_runs
from deepctl.state.run_state import RunState
from deepctl.state.runs import summarize
from deepctl.workspace import Workspace


@dataclass(frozen=True)
class Selection:
    """``--from``, ``--only``, ``--skip`` and ``--restart`` as given."""

    from_stage: str | None = None
    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    restart: bool = False

    def names(self) -> list[str]:
        return [n for n in (self.from_stage, *self.only, *self.skip) if n]

    def choices(self, order: list[str]) -> list[StageChoice]:
        """Each stage of ``order`` selected or not; unknown names and contradictions are
        usage errors. Pure, so checked once per selection and order (a command that checks
        before asking and again when it runs does not check twice)."""
        return list(_checked_choices(self, tuple(order)))


@functools.cache
def _checked_choices(selection: Selection, order: tuple[str, ...]) -> tuple[StageChoice, ...]:
    check_stage_names(selection.names(), order)
    return tuple(select_stages(list(order), from_stage=selection.from_stage,
                               only=list(selection.only), skip=list(selection.skip)))


NO_SELECTION = Selection()  # every stage, resuming where the last run stopped


@dataclass(frozen=True)
class Operation:
    """A command as the engine runs it."""

    command: str  # "deploy", "add-node", ... (names its runs)
    stages: Sequence[Stage]
    resume_hint: str  # the command line that resumes it, as the user would type it
    selection: Selection = Selection()
    # its stages' keys in the ledger: prefix + stage name ("" for deploy, "add-node/"...)
    ledger_prefix: str = ""
    # once finished, its ledger entries are forgotten: the next one starts afresh
    forget_on_success: bool = False
    # the stages a stage's ``establishes`` names, as that command keys them (deploy's)
    establishes_in: Ledgered | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    accept_new_hosts: bool = False
    on_success: Callable[[StageContext], None] | None = None
    # The stages build on each other (add-node, remove-node, upgrade): a selected stage runs
    # only after the ones before it succeeded, and the operation is done (``on_success``, its
    # ledger forgotten) only once all its stages are, in this run or in earlier ones.
    in_order: bool = False
    # said when the run starts, after its selection was accepted ("resuming add-node N...")
    notes: tuple[str, ...] = ()

    @cached_property
    def choices(self) -> list[StageChoice]:
        """The selection checked against the stages (once per operation)."""
        return self.selection.choices([s.name for s in self.stages])

    def check_selection(self) -> list[StageChoice]:
        """Unknown stage names and contradictions are usage errors (checked once)."""
        return self.choices

    @property
    def ledgered(self) -> Ledgered:
        return Ledgered(self.stages, self.ledger_prefix)


def plan_operation(ws: Workspace, tree: KubesprayTree | None, op: Operation) -> RunPlan:
    """What ``op`` would do now (the run's plan; ``--dry-run`` prints it)."""
    return make_plan(PlanContext(ws, tree, params=op.params), op.command, op.stages, op.choices,
                     load_ledger(ws.state), op.ledger_prefix, op.selection.restart)


def check_plan(op: Operation, plan: RunPlan) -> None:
    """Refuse a selection the plan shows would skip work it needs (pure)."""
    if op.selection.from_stage and not op.selection.restart and not op.in_order:
        plan.check_from(op.resume_hint)
    if op.in_order and op.selection.names():  # all stages selected: nothing to refuse
        plan.refuse_out_of_order(op.resume_hint)


def spec_hash(ws: Workspace) -> str:
    """The spec's meaning (not its comments or layout), hashed."""
    return inputs_hash(ws.cluster.model_dump(mode="json"))


def require_tree(ws: Workspace) -> KubesprayTree:
    tree = kubespray_source.find(ws.cluster, ws.spec.directory)
    if tree is None:
        raise kubespray_source.not_found_error(ws.cluster.spec.kubespray.version)
    return tree


def resume_note(ws: Workspace, command: str, last: RunState | None,
                first: str | None) -> str | None:
    """Say so when this run continues ``last``, a failed or canceled run of the same spec;
    ``first`` is the first stage this run will run (from the stage ledger)."""
    if not last or last.result == "succeeded":
        return None
    if last.spec_hash != spec_hash(ws):
        return (f"the last {command} ({last.id}) did not finish, but the spec changed "
                "since: stages whose inputs changed run again")
    result = summarize(last).result  # a dead process's "running" run reads "interrupted"
    return (f"resuming {command} {last.id} ({result}): the spec is unchanged, finished "
            "stages are skipped" + (f", continuing at {first}" if first else ""))


def run_operation(ws: Workspace, op: Operation, display: Display) -> RunRecord:
    """Run ``op`` under the cluster lock as a recorded run; raise its error, recorded."""
    op.check_selection()  # bad stage names are usage errors before anything else
    tree = require_tree(ws)
    require_usable_keys(ws.spec)  # one message for a bad key, before any host is contacted
    with cluster_lock(ws.state, op.command) as lock:
        if lock.taken_over is not None:
            _took_over(ws, lock.taken_over.pid, lock.taken_over.host, display)
        args = {"from": op.selection.from_stage, "only": list(op.selection.only),
                "skip": list(op.selection.skip), "restart": op.selection.restart,
                **op.params}
        plan = plan_operation(ws, tree, op)  # decided once: the runner carries it out
        check_plan(op, plan)
        previous = None if op.selection.restart else last_run(ws.state, op.command)
        record = start_run(ws.state, op.command, ws.spec.path, spec_hash(ws), args)
        token = CancelToken()
        ansible = Ansible(ws, record, tree, display, token)
        ctx = StageContext(ws, tree, record, display, token, ansible, op.accept_new_hosts,
                           params=op.params)
        try:
            _run(ctx, op, plan, display, ansible, token, previous)
        finally:
            close_ssh_masters(ansible.settings.control_dir)
            for line in record.timing.lines() if record.timing is not None else ():
                display.message(line)  # where the run spent its time (docs/runs.md)
            display.close()
            prune_runs(ws.state, keep_from_env())
        return record


def _not_done(ctx: StageContext, op: Operation, left: list[str]) -> None:
    """The selected stages succeeded, the operation is not finished: say what is left."""
    ctx.record.set_remaining(left)
    text = (f"{op.command} is not finished: {', '.join(left)} still to run (not selected); "
            f"finish with: {op.resume_hint}")
    ctx.record.log(text)
    ctx.display.message(text)


def _took_over(ws: Workspace, pid: int, host: str, display: Display) -> None:
    marked = mark_interrupted(ws.state, pid, host)
    display.message(f"took over the cluster lock left by PID {pid} on {host} "
                    "(that process is gone)" + "".join(
                        f"; run {run_id} recorded as interrupted" for run_id in marked))
    stopped = stop_leftovers(ws.state.root)
    if stopped:
        display.message("stopped Ansible processes the interrupted run left behind: "
                        f"PID {', '.join(map(str, stopped))}")


def _run(ctx: StageContext, op: Operation, plan: RunPlan, display: Display,
         ansible: Ansible, token: CancelToken, previous: RunState | None) -> None:
    record = ctx.record
    where = f"log: {record.log_path}"
    resume = f"; resume with: {op.resume_hint}"
    try:
        with cancel_on_signals(token, display.message):
            for text in op.notes:
                display.message(text)
            if not op.selection.restart:
                note = resume_note(ctx.ws, op.command, previous, plan.first_to_run())
                if note:
                    display.message(note)
            for line in plan.lines():
                record.log(f"plan: {line}")
            # Every playbook reads the run's own inventory of the spec as it is now, even
            # when the stage that publishes it is not selected (--only/--from/--skip).
            ansible.prepare()
            succeeded = run_plan(ctx, plan, op.stages, op.ledgered, display, op.establishes_in)
            left = plan.left_after(succeeded) if op.in_order else []
            if left:
                _not_done(ctx, op, left)
            else:
                if op.on_success is not None:
                    op.on_success(ctx)
                if op.forget_on_success:  # done: the next one starts afresh
                    forget(ctx.ws.state, prefix=op.ledger_prefix)
    except (Canceled, KeyboardInterrupt):
        stage = record.stage_with(("canceled", "running"))
        how = "stopped at once" if token.hard else "canceled"
        record.finish("canceled", failed_stage=stage, error=how if how != "canceled" else None)
        raise Canceled(f"{how}{' during stage ' + stage if stage else ''}; run "
                       f"{record.id} recorded as canceled", hint=where + resume) from None
    except DeepctlError as error:
        stage = record.stage_with(("failed", "running"))
        record.finish("failed", failed_stage=stage, error=error.message)
        if isinstance(error, PlaybookFailed):
            display.failure(run_failure(error, record.log_path, op.resume_hint, ctx.ws.spec.path))
        error.hint = "; ".join(p for p in (error.hint, where + resume) if p)
        raise
    except BaseException as error:
        record.finish("failed", failed_stage=record.stage_with(("running",)),
                      error=f"internal error: {type(error).__name__}: {error}")
        raise
    record.finish("succeeded")
