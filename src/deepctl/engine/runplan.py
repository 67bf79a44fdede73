"""The run's plan: for each stage of a command, one decision (run or skip) with its reason.

Made once, at the start of every command (``--dry-run`` included), from the selection
(``--from/--only/--skip``), the spec (a stage's ``enabled``), each stage's inputs hash, the
stage ledger and the stages' rerun reasons. ``--dry-run`` prints it; the runner carries its
decisions out and decides nothing itself. ``--from`` and the in-order rules of the node
commands are pure functions over it.

:func:`make_plan` is the one place that asks the stages (``inputs`` once per stage, ``rerun``
at most once, only when the inputs are unchanged); :func:`decide` and the plan's methods are
pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from deepctl.engine.selection import StageChoice, still_to_run, unmet_before
from deepctl.errors import UsageError
from deepctl.names import summary
from deepctl.stages.context import PlanContext
from deepctl.stages.stage import Stage, inputs_hash
from deepctl.state.ledger import LedgerEntry

NOT_ENABLED = "not enabled in the spec"
UP_TO_DATE = "up to date"


@dataclass(frozen=True)
class Decision:
    """What the run does with one stage, and why."""

    name: str
    title: str
    description: str
    hosts: tuple[str, ...]  # the hosts it acts on (none: it works on this machine)
    playbook: str | None
    enabled: bool  # the spec turns it on
    selected: bool  # --from/--only/--skip leave it in
    runs: bool
    reason: str  # why it runs ("never ran", "inputs changed", a rerun reason) or is skipped
    inputs_hash: str
    done: bool  # succeeded before with the inputs it has now (the ledger)
    ever: bool  # succeeded before at all (a ledger entry)
    checks_only: bool

    @property
    def needed(self) -> bool:
        """An in-order command is finished only once this stage is done."""
        return self.enabled and not self.checks_only

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "description": self.description,
                "hosts": list(self.hosts), "playbook": self.playbook, "enabled": self.enabled,
                "selected": self.selected, "runs": self.runs, "reason": self.reason,
                "upToDate": self.done}


def decide(choice: StageChoice | None, enabled: bool, previous: LedgerEntry | None,
           digest: str, rerun: str | None) -> tuple[bool, str]:
    """Pure: (runs, why) for one stage. ``rerun`` is the stage's reason to run although up
    to date (only asked when it is: see :func:`make_plan`)."""
    if choice is not None and not choice.selected:
        return False, choice.reason or "not selected"
    if not enabled:
        return False, NOT_ENABLED
    if previous is None:
        return True, "never ran"
    if previous.inputs_hash != digest:
        return True, "inputs changed"
    return (True, rerun) if rerun else (False, UP_TO_DATE)


def stage_hashes(ctx: PlanContext, stages: Sequence[Stage]) -> dict[str, str]:
    """Each stage's inputs hash: its own inputs and the hashes of the stages it comes after
    (so a change flows downstream)."""
    hashes: dict[str, str] = {}
    for stage in stages:
        deps = {d: hashes.get(d) for d in stage.after}
        hashes[stage.name] = inputs_hash({"inputs": stage.inputs(ctx), "after": deps})
    return hashes


@dataclass(frozen=True)
class RunPlan:
    command: str
    stages: tuple[Decision, ...]

    def __getitem__(self, name: str) -> Decision:
        return next(d for d in self.stages if d.name == name)

    @property
    def hashes(self) -> dict[str, str]:
        return {d.name: d.inputs_hash for d in self.stages}

    @property
    def to_run(self) -> list[str]:
        return [d.name for d in self.stages if d.runs]

    def first_to_run(self) -> str | None:
        """The first stage this run will run (for the "resuming" note)."""
        return next(iter(self.to_run), None)

    @property
    def playbooks(self) -> list[str]:
        return [d.playbook for d in self.stages if d.runs and d.playbook]

    def check_from(self, hint_command: str) -> None:
        """``--from X`` must not skip an enabled stage that never succeeded for this cluster."""
        skipped = [d for d in self.stages if d.reason.startswith("before --from")]
        never = [d.name for d in skipped if d.enabled and not d.ever]
        if never:
            start = skipped[0].reason.removeprefix("before ")
            raise UsageError(
                f"{start} would skip {', '.join(never)}, which never succeeded for this cluster",
                hint=f"run `{hint_command}`: stages that finished are skipped, so it starts at "
                "the first one that did not")

    def refuse_out_of_order(self, hint_command: str | None) -> None:
        """For a command whose stages build on each other: refuse a selection that would run
        a stage before the ones it builds on succeeded (with the inputs they have now).
        ``hint_command`` resumes the command; None when nothing of it ran yet."""
        order = [d.name for d in self.stages]
        selected = {d.name for d in self.stages if d.selected and d.enabled}
        required = {d.name for d in self.stages if d.needed}
        done = {d.name for d in self.stages if d.done}
        unmet = unmet_before(order, required, selected, done)
        if not unmet:
            return
        first = unmet[0]
        missing = ", ".join(first.missing)
        command = self.command
        if hint_command is None:
            raise UsageError(
                f"{command} stage {first.stage} builds on {missing}, which has not run yet",
                hint=f"run the same {command} without the --from/--only/--skip that leaves out "
                f"{missing}")
        raise UsageError(
            f"{command} stage {first.stage} builds on {missing}, which did not succeed for "
            f"this {command} (or its inputs changed since)",
            hint=f"run `{hint_command}`: stages that finished are skipped, so it starts at the "
            "first one that did not")

    def left_after(self, succeeded: Sequence[str]) -> list[str]:
        """The needed stages still not done once ``succeeded`` (this run's) are."""
        done = {d.name for d in self.stages if d.done} | set(succeeded)
        return still_to_run([d.name for d in self.stages],
                            {d.name for d in self.stages if d.needed}, done)

    def lines(self) -> list[str]:
        """One line per stage, as ``--dry-run`` and the run's log say it."""
        out = []
        for d in self.stages:
            where = f" on {summary(list(d.hosts))}" if d.hosts and d.runs else ""
            what = "runs" if d.runs else "skipped"
            out.append(f"{d.name}: {what}: {d.reason}{where}")
        return out

    def to_json(self) -> list[dict[str, Any]]:
        return [d.to_json() for d in self.stages]


def make_plan(ctx: PlanContext, command: str, stages: Sequence[Stage],
              choices: Sequence[StageChoice], ledger: Mapping[str, LedgerEntry],
              ledger_prefix: str, restart: bool = False) -> RunPlan:
    """The plan of one run. ``restart``: finished stages count for nothing (they run again);
    the in-order rules still see what is done."""
    chosen = {c.name: c for c in choices}
    hashes = stage_hashes(ctx, stages)
    cluster = ctx.cluster
    decisions = []
    for stage in stages:
        digest = hashes[stage.name]
        entry = ledger.get(ledger_prefix + stage.name)
        previous = None if restart else entry
        enabled = stage.enabled(cluster)
        choice = chosen.get(stage.name)
        asked = (enabled and (choice is None or choice.selected) and previous is not None
                 and previous.inputs_hash == digest)
        runs, why = decide(choice, enabled, previous, digest, stage.rerun(ctx) if asked else None)
        decisions.append(Decision(
            stage.name, stage.title, stage.describe(cluster), tuple(stage.hosts(cluster)),
            stage.playbook, enabled, choice is None or choice.selected, runs, why, digest,
            done=entry is not None and entry.inputs_hash == digest, ever=entry is not None,
            checks_only=stage.checks_only))
    return RunPlan(command, tuple(decisions))
