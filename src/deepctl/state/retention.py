"""Run retention: keep the newest runs and the last successful one of each command.

A failed real-Kubespray run leaves ~9 MB of Ansible artifacts; without pruning a state
directory only grows. After every run the engine keeps the newest ``keep`` runs (default
20, ``DEEPCTL_KEEP_RUNS``) plus, for each command, its newest successful run (the last
known-good inventory and log) and its newest run if that did not finish (the one the next
run resumes from), and never a run that is still going.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from deepctl.errors import UsageError
from deepctl.state.paths import StateDir
from deepctl.state.runs import list_runs, run_dirs

DEFAULT_KEEP = 20
KEEP_ENV = "DEEPCTL_KEEP_RUNS"


@dataclass(frozen=True)
class RunInfo:
    id: str
    command: str
    result: str


def keep_from_env(environ: dict[str, str] | None = None) -> int:
    raw = (environ if environ is not None else dict(os.environ)).get(KEEP_ENV)
    if raw is None or raw == "":
        return DEFAULT_KEEP
    try:
        keep = int(raw)
    except ValueError:
        keep = -1
    if keep < 1:
        raise UsageError(f"{KEEP_ENV}={raw!r} is not a number of runs (1 or more)")
    return keep


UNFINISHED = ("failed", "canceled", "interrupted")


def kept_runs(runs: list[RunInfo], keep: int) -> dict[str, str]:
    """{run id: why it is kept}, from runs newest first (pure). Kept: the newest ``keep``;
    a run still going; each command's newest successful run; and each command's newest run
    when it did not finish (failed, canceled, interrupted) and nothing superseded it (a later
    successful ``reset`` forgets every stage): the next run of that command resumes from it
    and its log is the one the failure named."""
    why: dict[str, str] = {}
    for run in runs[:keep]:
        why[run.id] = f"one of the newest {keep}"
    reset_later = False
    newest: set[str] = set()
    last_good: set[str] = set()
    for run in runs:  # newest first
        if run.result == "running":
            why.setdefault(run.id, "still running")
        if run.command not in newest:
            newest.add(run.command)
            if run.result in UNFINISHED and not reset_later:
                why.setdefault(run.id, f"the last {run.command}, {run.result}: the next "
                               f"`deepctl {run.command}` resumes from it")
        if run.result == "succeeded" and run.command not in last_good:
            last_good.add(run.command)
            why.setdefault(run.id, f"the last successful {run.command}")
        if run.command == "reset" and run.result == "succeeded":
            reset_later = True
    return why


def runs_to_prune(runs: list[RunInfo], keep: int) -> list[str]:
    """Ids to delete, from runs newest first (pure): every run :func:`kept_runs` does not
    keep. Unreadable runs are never listed, so never deleted."""
    kept = kept_runs(runs, keep)
    return [r.id for r in runs if r.id not in kept]


def prune_runs(state: StateDir, keep: int = DEFAULT_KEEP, *, dry_run: bool = False
               ) -> list[Path]:
    """Delete the run directories :func:`runs_to_prune` names (with ``dry_run``, only say
    which); return them."""
    readable = list_runs(state)
    doomed = set(runs_to_prune([RunInfo(r.id, r.command, r.result) for r in readable], keep))
    removed = []
    for run_dir in run_dirs(state):
        if run_dir.name in doomed:
            if not dry_run:
                shutil.rmtree(run_dir, ignore_errors=True)
            removed.append(run_dir)
    return removed
