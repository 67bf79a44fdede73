"""Run the catalog's stages in order: skip what is up to date, record everything.

A stage's inputs hash covers its own inputs and the hashes of the stages it comes after, so
a change flows downstream. Finished stages are kept in ``<state>/stages.json`` (the ledger):
a later ``deploy`` skips a stage that succeeded with the same hash, which is also how a
failed deploy resumes at the failed stage when the spec is unchanged.
"""

from __future__ import annotations

import json
import time
from typing import Any

from deepctl.engine.history import SCHEMA_VERSION
from deepctl.engine.runrecord import utc_now
from deepctl.engine.selection import StageChoice
from deepctl.errors import Canceled, DeepctlError, StateError
from deepctl.fsutil import atomic_write_json
from deepctl.stages.base import StageContext, inputs_hash
from deepctl.stages.catalog import StageInfo
from deepctl.stages.registry import implementation
from deepctl.statedir import StateDir

LEDGER_FILE = "stages.json"


def load_ledger(state: StateDir) -> dict[str, Any]:
    path = state.root / LEDGER_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        return {}  # unreadable: every stage simply runs again
    if isinstance(data, dict) and int(data.get("version", 0)) > SCHEMA_VERSION:
        raise StateError(f"{path}: written by a newer deepctl",
                         hint="upgrade deepctl, or remove the file to run every stage again")
    stages = data.get("stages") if isinstance(data, dict) else None
    return stages if isinstance(stages, dict) else {}


def save_ledger(state: StateDir, stages: dict[str, Any]) -> None:
    atomic_write_json(state.root / LEDGER_FILE, {"version": SCHEMA_VERSION, "stages": stages})


def clear_ledger(state: StateDir, names: list[str] | None = None) -> None:
    """Forget finished stages (all, or ``names``): they run again next time."""
    stages = load_ledger(state)
    for name in list(stages) if names is None else names:
        stages.pop(name, None)
    save_ledger(state, stages)


def stage_hashes(ctx: StageContext, stages: list[StageInfo]) -> dict[str, str]:
    hashes: dict[str, str] = {}
    for info in stages:
        own = implementation(info.name).inputs(ctx)
        deps = {d: hashes.get(d) for d in info.after}
        hashes[info.name] = inputs_hash({"inputs": own, "after": deps})
    return hashes


def run_stages(ctx: StageContext, stages: list[StageInfo], choices: list[StageChoice],
               restart: bool = False) -> None:
    """Run the selected stages in order; raise the first stage's error (recorded)."""
    chosen = {c.name: c for c in choices}
    ledger = {} if restart else load_ledger(ctx.ws.state)
    hashes = stage_hashes(ctx, stages)
    ctx.display.stages_planned([(s.name, s.title) for s in stages])
    for info in stages:
        if ctx.token.canceled:
            raise Canceled("canceled before stage " + info.name)
        choice = chosen.get(info.name)
        reason = None if choice is None else choice.reason
        if reason is None and not info.enabled(ctx.cluster):
            reason = "not enabled in the spec"
        impl = implementation(info.name)
        if reason is None:
            previous = (ledger.get(info.name) or {}).get("inputs_hash")
            run, why = impl.should_run(ctx, previous, hashes[info.name])
            reason = None if run else why
        if reason is not None:
            ctx.record.set_stage(info.name, "skipped", reason=reason)
            ctx.display.stage_finished(info.name, "skipped", reason, None)
            continue
        _run_one(ctx, info, hashes[info.name])


def _run_one(ctx: StageContext, info: StageInfo, digest: str) -> None:
    ctx.record.set_stage(info.name, "running", inputs_hash=digest)
    ctx.display.stage_started(info.name, info.title)
    started = time.monotonic()
    try:
        implementation(info.name).run(ctx)
    except (Canceled, KeyboardInterrupt):
        ctx.record.set_stage(info.name, "canceled")
        ctx.display.stage_finished(info.name, "canceled", None, time.monotonic() - started)
        raise
    except DeepctlError as error:
        ctx.record.set_stage(info.name, "failed", error=error.message)
        ctx.display.stage_finished(info.name, "failed", None, time.monotonic() - started)
        raise
    duration = round(time.monotonic() - started, 3)
    ctx.record.set_stage(info.name, "succeeded", duration_s=duration)
    ctx.display.stage_finished(info.name, "succeeded", None, duration)
    ledger = load_ledger(ctx.ws.state)
    ledger[info.name] = {"inputs_hash": digest, "finished_at": utc_now(), "run_id": ctx.record.id}
    save_ledger(ctx.ws.state, ledger)
