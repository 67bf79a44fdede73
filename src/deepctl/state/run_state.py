"""The content of a run's ``state.json``, typed: :class:`RunState` and its :class:`StageState`.

Read and written only here (``from_json`` / ``to_json``); everything else reads fields. The
format on disk is schema version 1 as before (docs/runs.md): ``stages`` is an object keyed by
stage name with ``stage_order`` keeping the run's order; the fields added since (``timing``,
a stage's ``tasks``) are optional, so a record written by an older deepctl reads the same.
A malformed record is a ``KeyError``/``TypeError``/``ValueError`` (the reader skips it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from deepctl.state.timing import TaskTime, TimingReport
from deepctl.state.types import RUN_RESULTS, STAGE_STATUSES, RunResult, StageStatus


def check_result(value: object) -> RunResult:
    if value not in RUN_RESULTS:
        raise TypeError(f"unknown result {value!r}")
    return value  # type: ignore[return-value]


def check_status(value: object) -> StageStatus:
    if value not in STAGE_STATUSES:
        raise TypeError(f"unknown stage status {value!r}")
    return value  # type: ignore[return-value]


def _opt_str(value: object) -> str | None:
    return str(value) if value is not None else None


def _opt_float(value: object) -> float | None:
    return float(value) if value is not None else None  # type: ignore[arg-type]


@dataclass
class StageState:
    """One stage of a run as recorded."""

    status: StageStatus = "pending"
    started_at: str | None = None
    finished_at: str | None = None
    duration_s: float | None = None
    inputs_hash: str | None = None
    reason: str | None = None  # why it was skipped
    error: str | None = None
    tasks: list[TaskTime] = field(default_factory=list)  # its playbooks' tasks, in order

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status}
        for key in ("started_at", "finished_at", "duration_s", "inputs_hash", "reason",
                    "error"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.tasks:
            out["tasks"] = [t.to_json() for t in self.tasks]
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StageState:
        if not isinstance(data, Mapping):
            raise TypeError("a stage is not an object")
        return cls(status=check_status(data.get("status")),
                   started_at=_opt_str(data.get("started_at")),
                   finished_at=_opt_str(data.get("finished_at")),
                   duration_s=_opt_float(data.get("duration_s")),
                   inputs_hash=_opt_str(data.get("inputs_hash")),
                   reason=_opt_str(data.get("reason")), error=_opt_str(data.get("error")),
                   tasks=[TaskTime.from_json(t) for t in data.get("tasks") or ()])


@dataclass
class RunState:
    """One run: what ran, with which arguments, how each stage ended and how long it took."""

    id: str
    command: str
    spec_path: str
    spec_hash: str
    started_at: str
    args: dict[str, Any] = field(default_factory=dict)  # the command's options, as given
    started_ns: int = 0
    finished_at: str | None = None
    duration_s: float | None = None
    result: RunResult = "running"
    failed_stage: str | None = None
    error: str | None = None
    pid: int | None = None
    host: str | None = None
    stages: dict[str, StageState] = field(default_factory=dict)  # in the order reached
    remaining: list[str] = field(default_factory=list)  # an in-order run not finished
    timing: TimingReport | None = None

    def stage(self, name: str) -> StageState:
        return self.stages.setdefault(name, StageState())

    def to_json(self) -> dict[str, Any]:
        """The ``state.json`` body (without ``version``: documents.write_document adds it)."""
        out: dict[str, Any] = {
            "id": self.id, "command": self.command, "args": self.args,
            "spec_path": self.spec_path, "spec_hash": self.spec_hash,
            "started_at": self.started_at, "started_ns": self.started_ns,
            "finished_at": self.finished_at, "duration_s": self.duration_s,
            "result": self.result, "failed_stage": self.failed_stage, "pid": self.pid,
            "host": self.host, "stages": {n: s.to_json() for n, s in self.stages.items()},
            "stage_order": list(self.stages)}
        if self.error is not None:
            out["error"] = self.error
        if self.remaining:
            out["remaining"] = list(self.remaining)
        if self.timing is not None:
            out["timing"] = self.timing.to_json()
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunState:
        raw = data.get("stages") or {}
        if not isinstance(raw, Mapping):
            raise TypeError("stages is not an object")
        order = [str(n) for n in data.get("stage_order") or () if n in raw]
        names = order + sorted(str(n) for n in raw if n not in order)
        pid = data.get("pid")
        args = data.get("args") or {}
        timing = data.get("timing")
        return cls(
            id=str(data["id"]), command=str(data["command"]),
            spec_path=str(data.get("spec_path") or ""), spec_hash=str(data.get("spec_hash") or ""),
            started_at=str(data["started_at"]), args=dict(args),
            started_ns=int(data.get("started_ns") or 0),
            finished_at=_opt_str(data.get("finished_at")),
            duration_s=_opt_float(data.get("duration_s")),
            result=check_result(data["result"]), failed_stage=_opt_str(data.get("failed_stage")),
            error=_opt_str(data.get("error")),
            pid=pid if isinstance(pid, int) and not isinstance(pid, bool) else None,
            host=_opt_str(data.get("host")),
            stages={n: StageState.from_json(raw[n]) for n in names},
            remaining=[str(n) for n in data.get("remaining") or ()],
            timing=TimingReport.from_json(timing) if isinstance(timing, Mapping) else None)
