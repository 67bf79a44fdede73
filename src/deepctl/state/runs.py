"""Reading the run history of a cluster: one directory per run under ``state.runs_dir``.

Each run directory holds a ``state.json`` written by :mod:`deepctl.state.record`. This
module only reads; it is tolerant of run directories that are half-written or corrupt (they
are skipped), so ``deepctl runs`` and ``deepctl status`` never fail on a broken old run.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from deepctl.errors import StateError
from deepctl.state.paths import RunDir, StateDir
from deepctl.state.run_state import RunState
from deepctl.state.timing import TimingReport
from deepctl.state.types import RUN_RESULTS, SCHEMA_VERSION, RunResult, StageStatus

RESULTS = RUN_RESULTS


@dataclass(frozen=True)
class StageSummary:
    """One stage of a run: how it ended and how long it took (None: it did not run)."""

    name: str
    status: StageStatus
    duration_s: float | None
    reason: str | None = None


@dataclass(frozen=True)
class RunSummary:
    """One line of the run history."""

    id: str
    command: str
    started_at: str  # ISO 8601 UTC
    duration_s: float | None
    result: RunResult
    failed_stage: str | None
    stages: tuple[StageSummary, ...] = ()
    # a node command whose selected stages succeeded but that is not finished (--only ...)
    remaining: tuple[str, ...] = ()
    # the slowest stages, roles and tasks (None: recorded by a deepctl before timings)
    timing: TimingReport | None = None


def read_state(run_dir: Path) -> RunState:
    """Read and check one run's ``state.json``.

    Raises :class:`StateError` when it is missing, unreadable, malformed, or written by a
    newer deepctl.
    """
    path = RunDir(run_dir).state_file
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StateError(f"{path}: no run state here") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StateError(f"{path}: unreadable run state ({exc})") from None
    if not isinstance(data, dict):
        raise StateError(f"{path}: unreadable run state (not a JSON object)")
    version = data.get("version")
    if not isinstance(version, int):
        raise StateError(f"{path}: unreadable run state (no schema version)")
    if version > SCHEMA_VERSION:
        raise StateError(
            f"{path}: written by a newer deepctl (state schema {version}, "
            f"this deepctl reads {SCHEMA_VERSION})",
            hint="upgrade deepctl, or use a separate --state-dir with this version",
        )
    try:
        return RunState.from_json(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise StateError(f"{path}: unreadable run state ({type(exc).__name__}: {exc})"
                         ) from None


def summarize(run: RunState) -> RunSummary:
    """The :class:`RunSummary` of a run (a dead process's ``running`` run: interrupted)."""
    result = run.result
    if result == "running" and not _still_running(run):
        result = "interrupted"
    return RunSummary(
        id=run.id, command=run.command, started_at=run.started_at, duration_s=run.duration_s,
        result=result, failed_stage=run.failed_stage,
        stages=tuple(StageSummary(name, s.status, s.duration_s, s.reason)
                     for name, s in run.stages.items()),
        remaining=tuple(run.remaining), timing=run.timing,
    )


def _still_running(run: RunState) -> bool:
    """False when the run's process is known to be gone (same host, pid not alive)."""
    pid, host = run.pid, run.host
    if pid is None or host != socket.gethostname():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_dirs(state: StateDir) -> list[Path]:
    """Run directories, newest first (run ids start with a UTC timestamp, so names sort)."""
    try:
        entries = [p for p in state.runs_dir.iterdir() if p.is_dir() and not p.name.startswith(".")]
    except OSError:
        return []
    return sorted(entries, key=lambda p: p.name, reverse=True)


def read_all(state: StateDir) -> list[RunState]:
    """Every readable run state, newest first (runs started in the same second by start time)."""
    found = []
    for run_dir in run_dirs(state):
        try:
            data = read_state(run_dir)
        except StateError:
            continue
        found.append(data)
    found.sort(key=lambda run: (run.id[:16], run.started_ns), reverse=True)
    return found


def list_runs(state: StateDir, limit: int | None = None) -> list[RunSummary]:
    """The runs of a cluster, newest first; corrupt or foreign run directories are skipped."""
    runs: list[RunSummary] = []
    for run in read_all(state):
        if limit is not None and len(runs) >= limit:
            break
        runs.append(summarize(run))
    return runs
