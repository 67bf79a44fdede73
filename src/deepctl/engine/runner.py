"""Carry a :class:`~deepctl.engine.runplan.RunPlan` out: run what it says runs, record the rest
as skipped with its reason. The runner decides nothing.

The same runner serves every command (deploy, add-node, remove-node, upgrade, reset).
Finished stages are kept in the ledger (``stages.json``) under the operation's ledger prefix:
a later plan skips a stage that succeeded with the same inputs, which is how a failed run
resumes.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from deepctl.engine.display import Display
from deepctl.engine.runplan import RunPlan, stage_hashes
from deepctl.errors import Canceled, DeepctlError
from deepctl.stages.context import StageContext
from deepctl.stages.stage import Stage
from deepctl.state.ledger import LedgerEntry, record_entry
from deepctl.state.record import utc_now
from deepctl.state.types import StageStatus


@dataclass(frozen=True)
class Ledgered:
    """A command's stages as the ledger keys them (``prefix`` + stage name)."""

    stages: Sequence[Stage]
    prefix: str


def run_plan(ctx: StageContext, plan: RunPlan, stages: Sequence[Stage], ledger: Ledgered,
             display: Display, establishes_in: Ledgered | None = None) -> list[str]:
    """Run the stages ``plan`` says run, in order; raise the first stage's error (recorded).
    Returns the stages that succeeded."""
    by_name = {s.name: s for s in stages}
    display.stages_planned([(d.name, d.title) for d in plan.stages])
    succeeded: list[str] = []
    for decision in plan.stages:
        if ctx.token.canceled:
            raise Canceled("canceled before stage " + decision.name)
        if not decision.runs:
            ctx.record.set_stage(decision.name, "skipped", reason=decision.reason)
            display.stage_finished(decision.name, "skipped", decision.reason, None)
            continue
        ctx.record.log(f"stage {decision.name}: runs ({decision.reason})")
        stage = by_name[decision.name]
        _run_one(ctx, stage, decision.inputs_hash, display)
        record_entry(ctx.ws.state, ledger.prefix + stage.name,
                     LedgerEntry(decision.inputs_hash, utc_now(), ctx.record.id))
        succeeded.append(stage.name)
        if stage.establishes and establishes_in is not None:
            establish(ctx, stage, ledger.prefix, establishes_in)
    return succeeded


def _run_one(ctx: StageContext, stage: Stage, digest: str, display: Display) -> None:
    ctx.record.set_stage(stage.name, "running", inputs_hash=digest)
    display.stage_started(stage.name, stage.title)
    started = time.monotonic()
    try:
        stage.run(ctx)
    except (Canceled, KeyboardInterrupt):
        _ended(ctx, stage, "canceled", started, display)
        raise
    except DeepctlError as error:
        _ended(ctx, stage, "failed", started, display, error=error.message)
        if stage.cleanup is not None:
            stage.cleanup(ctx)
        raise
    _ended(ctx, stage, "succeeded", started, display)


def _ended(ctx: StageContext, stage: Stage, status: StageStatus, started: float,
           display: Display, error: str | None = None) -> float:
    duration = round(time.monotonic() - started, 3)
    extra = {"error": error} if error else {}
    ctx.record.set_stage(stage.name, status, duration_s=duration, **extra)
    display.stage_finished(stage.name, status, None, duration)
    return duration


def establish(ctx: StageContext, stage: Stage, prefix: str, target: Ledgered) -> None:
    """Record ``stage.establishes`` (stages of ``target``) as current for the spec as it is
    now, and redo what they leave here (``on_established``)."""
    hashes = stage_hashes(ctx, target.stages)
    by = f"{prefix}{stage.name}"
    named = {s.name: s for s in target.stages}
    for name in stage.establishes:
        reached = named[name]
        if reached.on_established is not None:
            reached.on_established(ctx)
        record_entry(ctx.ws.state, target.prefix + name,
                     LedgerEntry(hashes[name], utc_now(), ctx.record.id, by))
    ctx.record.log(f"stage {stage.name}: {', '.join(stage.establishes)} now current "
                   f"(established by {by})")
