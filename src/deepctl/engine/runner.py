"""Run a command's stages in order: skip what is up to date, record everything.

The same runner serves every command (deploy, add-node, remove-node, upgrade, reset). A
stage's inputs hash covers its own inputs and the hashes of the stages it comes after, so a
change flows downstream. Finished stages are kept in the ledger (``stages.json``): a later
run skips a stage that succeeded with the same hash, which is how a failed run resumes.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from deepctl.engine.display import Display
from deepctl.engine.selection import StageChoice, still_to_run, unmet_before
from deepctl.errors import Canceled, DeepctlError, UsageError
from deepctl.spec.models import Cluster
from deepctl.stages.context import StageContext
from deepctl.stages.sequences import deploy_stages
from deepctl.stages.stage import Stage, inputs_hash
from deepctl.state.ledger import LedgerEntry, ledger_key, load_ledger, record_entry
from deepctl.state.record import utc_now
from deepctl.state.types import StageStatus
from deepctl.workspace import Workspace


def stage_hashes(ctx: StageContext, stages: Sequence[Stage]) -> dict[str, str]:
    hashes: dict[str, str] = {}
    for stage in stages:
        deps = {d: hashes.get(d) for d in stage.after}
        hashes[stage.name] = inputs_hash({"inputs": stage.inputs(ctx), "after": deps})
    return hashes


def skip_reason(ctx: StageContext, stage: Stage, choice: StageChoice | None,
                previous: LedgerEntry | None, digest: str) -> str | None:
    """Why ``stage`` is skipped, or None when it runs."""
    if choice is not None and choice.reason is not None:
        return choice.reason
    if not stage.enabled(ctx.cluster):
        return "not enabled in the spec"
    if previous is None or previous.inputs_hash != digest:
        return None
    return None if stage.rerun(ctx) is not None else "up to date"


def run_reason(ctx: StageContext, stage: Stage, previous: LedgerEntry | None,
               digest: str) -> str:
    if previous is None:
        return "never ran"
    if previous.inputs_hash != digest:
        return "inputs changed"
    return stage.rerun(ctx) or "up to date"


def first_to_run(ctx: StageContext, command: str, stages: Sequence[Stage],
                 choices: Sequence[StageChoice]) -> str | None:
    """The first stage this run will actually run (for the "resuming" note)."""
    chosen = {c.name: c for c in choices}
    ledger = load_ledger(ctx.ws.state)
    hashes = stage_hashes(ctx, stages)
    for stage in stages:
        previous = ledger.get(ledger_key(command, stage.name))
        if skip_reason(ctx, stage, chosen.get(stage.name), previous, hashes[stage.name]) is None:
            return stage.name
    return None


def check_from(command: str, stages: Sequence[Stage], choices: Sequence[StageChoice],
               ws: Workspace, hint_command: str) -> None:
    """``--from X`` must not skip an enabled stage that never succeeded for this cluster."""
    ledger = load_ledger(ws.state)
    skipped = [c for c in choices if c.reason and c.reason.startswith("before --from")]
    names = {c.name for c in skipped}
    never = [s.name for s in stages if s.name in names and s.enabled(ws.cluster)
             and ledger_key(command, s.name) not in ledger]
    if never:
        start = (skipped[0].reason or "").removeprefix("before ")
        raise UsageError(
            f"{start} would skip {', '.join(never)}, which never succeeded for this cluster",
            hint=f"run `{hint_command}`: stages that finished are skipped, so it starts at the "
            "first one that did not")


def stages_done(ctx: StageContext, command: str, stages: Sequence[Stage],
                hashes: dict[str, str]) -> set[str]:
    """The stages of ``command`` that succeeded with the inputs ``hashes`` gives them."""
    ledger = load_ledger(ctx.ws.state)
    return {s.name for s in stages
            if (entry := ledger.get(ledger_key(command, s.name))) is not None
            and entry.inputs_hash == hashes[s.name]}


def required(cluster: Cluster, stages: Sequence[Stage]) -> set[str]:
    """The stages an in-order command needs done to be finished: enabled, and not checks only."""
    return {s.name for s in stages if s.enabled(cluster) and not s.checks_only}


def refuse_out_of_order(command: str, stages: Sequence[Stage], choices: Sequence[StageChoice],
                        cluster: Cluster, done: set[str], hint_command: str | None) -> None:
    """For a command whose stages build on each other: refuse a selection that would run a
    stage before the ones it builds on succeeded (``done``: with the inputs they have now).
    ``hint_command`` resumes the command; None when nothing of it ran yet."""
    enabled = {s.name for s in stages if s.enabled(cluster)}
    selected = {c.name for c in choices if c.selected and c.name in enabled}
    unmet = unmet_before([s.name for s in stages], required(cluster, stages), selected, done)
    if not unmet:
        return
    first = unmet[0]
    missing = ", ".join(first.missing)
    if hint_command is None:
        raise UsageError(
            f"{command} stage {first.stage} builds on {missing}, which has not run yet",
            hint=f"run the same {command} without the --from/--only/--skip that leaves out "
            f"{missing}")
    raise UsageError(
        f"{command} stage {first.stage} builds on {missing}, which did not succeed for this "
        f"{command} (or its inputs changed since)",
        hint=f"run `{hint_command}`: stages that finished are skipped, so it starts at the "
        "first one that did not")


def check_in_order(ctx: StageContext, command: str, stages: Sequence[Stage],
                   choices: Sequence[StageChoice], hint_command: str) -> None:
    """:func:`refuse_out_of_order` against the stage ledger."""
    done = stages_done(ctx, command, stages, stage_hashes(ctx, stages))
    refuse_out_of_order(command, stages, choices, ctx.cluster, done, hint_command)


def left_to_run(ctx: StageContext, command: str, stages: Sequence[Stage],
                hashes: dict[str, str]) -> list[str]:
    """The stages ``command`` still needs (:func:`required`) not done with this run's inputs."""
    return still_to_run([s.name for s in stages], required(ctx.cluster, stages),
                        stages_done(ctx, command, stages, hashes))


def run_stages(ctx: StageContext, command: str, stages: Sequence[Stage],
               choices: Sequence[StageChoice], display: Display, restart: bool = False
               ) -> dict[str, str]:
    """Run the selected stages in order; raise the first stage's error (recorded). Returns
    each stage's inputs hash as this run computed it (what the ledger records)."""
    chosen = {c.name: c for c in choices}
    ledger = {} if restart else load_ledger(ctx.ws.state)
    hashes = stage_hashes(ctx, stages)
    display.stages_planned([(s.name, s.title) for s in stages])
    for stage in stages:
        if ctx.token.canceled:
            raise Canceled("canceled before stage " + stage.name)
        previous = ledger.get(ledger_key(command, stage.name))
        digest = hashes[stage.name]
        skip = skip_reason(ctx, stage, chosen.get(stage.name), previous, digest)
        if skip is not None:
            ctx.record.set_stage(stage.name, "skipped", reason=skip)
            display.stage_finished(stage.name, "skipped", skip, None)
            continue
        ctx.record.log(f"stage {stage.name}: runs ({run_reason(ctx, stage, previous, digest)})")
        _run_one(ctx, command, stage, digest, display)
    return hashes


def _run_one(ctx: StageContext, command: str, stage: Stage, digest: str,
             display: Display) -> None:
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
    entry = LedgerEntry(digest, utc_now(), ctx.record.id)
    record_entry(ctx.ws.state, ledger_key(command, stage.name), entry)
    if stage.establishes:
        establish(ctx, stage, command)


def _ended(ctx: StageContext, stage: Stage, status: StageStatus, started: float,
           display: Display, error: str | None = None) -> float:
    duration = round(time.monotonic() - started, 3)
    extra = {"error": error} if error else {}
    ctx.record.set_stage(stage.name, status, duration_s=duration, **extra)
    display.stage_finished(stage.name, status, None, duration)
    return duration


def establish(ctx: StageContext, stage: Stage, command: str) -> None:
    """Record deploy's ``stage.establishes`` stages as current for the spec as it is now."""
    hashes = stage_hashes(ctx, deploy_stages())
    by = f"{command}/{stage.name}"
    if "inventory" in stage.establishes:
        ctx.ws.render_inventory()  # what deploy's inventory stage would publish
    for name in stage.establishes:
        record_entry(ctx.ws.state, name, LedgerEntry(hashes[name], utc_now(), ctx.record.id, by))
    ctx.record.log(f"stage {stage.name}: deploy's {', '.join(stage.establishes)} now current "
                   f"(established by {by})")
