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
from typing import Any

from deepctl.errors import StateError
from deepctl.state.paths import RunDir, StateDir
from deepctl.state.types import RUN_RESULTS, SCHEMA_VERSION, STAGE_STATUSES, RunResult, StageStatus

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


def read_state(run_dir: Path) -> dict[str, Any]:
    """Read and check one run's ``state.json``.

    Raises :class:`StateError` when it is missing, unreadable, or written by a newer deepctl.
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
    return data


def summarize(data: dict[str, Any]) -> RunSummary:
    """A :class:`RunSummary` from a parsed ``state.json`` (``KeyError``/``TypeError`` if bad)."""
    duration = data.get("duration_s")
    result: RunResult = check_result(data["result"])
    failed = data.get("failed_stage")
    if result == "running" and not _still_running(data):
        result = "interrupted"
    return RunSummary(
        id=str(data["id"]),
        command=str(data["command"]),
        started_at=str(data["started_at"]),
        duration_s=float(duration) if duration is not None else None,
        result=result,
        failed_stage=str(failed) if failed is not None else None,
        stages=stage_summaries(data.get("stages") or {}, data.get("stage_order") or []),
        remaining=tuple(str(n) for n in data.get("remaining") or ()),
    )


def check_result(value: object) -> RunResult:
    if value not in RUN_RESULTS:
        raise TypeError(f"unknown result {value!r}")
    return value  # type: ignore[return-value]


def check_status(value: object) -> StageStatus:
    if value not in STAGE_STATUSES:
        raise TypeError(f"unknown stage status {value!r}")
    return value  # type: ignore[return-value]


def stage_summaries(stages: dict[str, Any], order: list[str]) -> tuple[StageSummary, ...]:
    """The stages of a ``state.json``, in the order the run reached them (``stage_order``)."""
    out = []
    names = [n for n in order if n in stages] + sorted(n for n in stages if n not in order)
    for name in names:
        entry = stages[name]
        duration = entry.get("duration_s")
        out.append(StageSummary(str(name), check_status(entry.get("status")),
                                float(duration) if duration is not None else None,
                                entry.get("reason")))
    return tuple(out)


def _still_running(data: dict[str, Any]) -> bool:
    """False when the run's process is known to be gone (same host, pid not alive)."""
    pid, host = data.get("pid"), data.get("host")
    if not isinstance(pid, int) or host != socket.gethostname():
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


def read_all(state: StateDir) -> list[dict[str, Any]]:
    """Every readable run state, newest first (runs started in the same second by start time)."""
    found = []
    for run_dir in run_dirs(state):
        try:
            data = read_state(run_dir)
        except StateError:
            continue
        found.append(data)
    found.sort(key=lambda d: (str(d.get("id", ""))[:16], int(d.get("started_ns") or 0)),
               reverse=True)
    return found


def list_runs(state: StateDir, limit: int | None = None) -> list[RunSummary]:
    """The runs of a cluster, newest first; corrupt or foreign run directories are skipped."""
    runs: list[RunSummary] = []
    for data in read_all(state):
        if limit is not None and len(runs) >= limit:
            break
        try:
            runs.append(summarize(data))
        except (KeyError, TypeError, ValueError):
            continue
    return runs
