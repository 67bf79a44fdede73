"""``deploy``: the catalog's stages, in order, as one recorded run (resumable)."""

from __future__ import annotations

from dataclasses import dataclass, field

from deepctl.engine.display import Display
from deepctl.engine.history import summarize
from deepctl.engine.pipeline import run_stages
from deepctl.engine.runrecord import RunRecord, last_run
from deepctl.engine.selection import select_stages
from deepctl.engine.session import run_session, spec_hash
from deepctl.stages.base import StageContext
from deepctl.stages.catalog import check_stage_names, ordered
from deepctl.workspace import Workspace


@dataclass(frozen=True)
class DeployOptions:
    from_stage: str | None = None
    only: list[str] = field(default_factory=list)
    skip: list[str] = field(default_factory=list)
    restart: bool = False
    accept_new_hosts: bool = False


def resume_note(ws: Workspace) -> str | None:
    """Say so when this deploy continues a failed or canceled one of the same spec."""
    last = last_run(ws.state, "deploy")
    if not last or last.get("result") == "succeeded":
        return None
    if last.get("spec_hash") != spec_hash(ws):
        return (f"the last deploy ({last.get('id')}) did not finish, but the spec changed "
                "since: stages whose inputs changed run again")
    stage = last.get("failed_stage")
    try:
        result = summarize(last).result  # a dead process's "running" run reads "interrupted"
    except (KeyError, TypeError, ValueError):
        result = str(last.get("result"))
    return (f"resuming deploy {last.get('id')} ({result}): the spec is unchanged, "
            f"finished stages are skipped" + (f", continuing at {stage}" if stage else ""))


def deploy(ws: Workspace, options: DeployOptions, display: Display) -> RunRecord:
    names = [n for n in [options.from_stage, *options.only, *options.skip] if n]
    check_stage_names(names)
    stages = ordered()
    choices = select_stages([s.name for s in stages], from_stage=options.from_stage,
                            only=options.only, skip=options.skip)
    note = None if options.restart else resume_note(ws)
    if note:
        display.message(note)

    def body(ctx: StageContext) -> None:
        run_stages(ctx, stages, choices, restart=options.restart)

    args = {"from": options.from_stage, "only": options.only, "skip": options.skip,
            "restart": options.restart}
    return run_session(ws, "deploy", body, display=display, args=args,
                       accept_new_hosts=options.accept_new_hosts,
                       resume_hint=f"deepctl deploy {ws.spec.path}")
