"""Run retention: keep the newest runs and the last successful one of each command.

A failed real-Kubespray run leaves ~9 MB of Ansible artifacts; without pruning a state
directory only grows. After every run the engine keeps the newest ``keep`` runs (default
20, ``DEEPCTL_KEEP_RUNS``) plus, for each command, its newest successful run (the last
known-good inventory and log), and never a run that is still going.
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


def runs_to_prune(runs: list[RunInfo], keep: int) -> list[str]:
    """Ids to delete, from runs newest first (pure). Unreadable runs count as kept."""
    kept = {r.id for r in runs[:keep]}
    last_good: dict[str, str] = {}
    for run in runs:
        if run.result == "succeeded":
            last_good.setdefault(run.command, run.id)
    kept |= set(last_good.values())
    kept |= {r.id for r in runs if r.result == "running"}
    return [r.id for r in runs if r.id not in kept]


def prune_runs(state: StateDir, keep: int = DEFAULT_KEEP) -> list[Path]:
    """Delete the run directories :func:`runs_to_prune` names; return what was deleted."""
    readable = list_runs(state)
    doomed = set(runs_to_prune([RunInfo(r.id, r.command, r.result) for r in readable], keep))
    removed = []
    for run_dir in run_dirs(state):
        if run_dir.name in doomed:
            shutil.rmtree(run_dir, ignore_errors=True)
            removed.append(run_dir)
    return removed
