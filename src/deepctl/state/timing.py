"""Where a run spent its time: the slowest stages, Kubespray roles and tasks (docs/runs.md).

A pure function of what the run recorded: each stage's duration and, for a stage that ran
playbooks, each task's wall time (engine/task_clock.py reads them from ansible-runner's
events). Written into the run's ``state.json`` as ``timing`` and shown at the end of a run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

TOP = 5


@dataclass(frozen=True)
class TaskTime:
    """One task of a playbook run (its role, if any) and its wall time."""

    role: str
    task: str
    duration_s: float

    def to_json(self) -> dict[str, Any]:
        return {"role": self.role, "task": self.task, "duration_s": self.duration_s}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TaskTime:
        return cls(str(data.get("role") or ""), str(data["task"]), float(data["duration_s"]))


@dataclass(frozen=True)
class Timed:
    """A stage, a role or a task (``role : task``) with its total time; ``stage`` says
    where a role or a task ran."""

    name: str
    duration_s: float
    stage: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "duration_s": self.duration_s, "stage": self.stage}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Timed:
        stage = data.get("stage")
        return cls(str(data["name"]), float(data["duration_s"]),
                   str(stage) if stage is not None else None)


@dataclass(frozen=True)
class TimingReport:
    """The slowest stages, roles and tasks of a run, slowest first (at most ``TOP`` each)."""

    stages: tuple[Timed, ...] = ()
    roles: tuple[Timed, ...] = ()
    tasks: tuple[Timed, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"stages": [t.to_json() for t in self.stages],
                "roles": [t.to_json() for t in self.roles],
                "tasks": [t.to_json() for t in self.tasks]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TimingReport:
        return cls(*(tuple(Timed.from_json(t) for t in data.get(key) or ())
                     for key in ("stages", "roles", "tasks")))

    def lines(self) -> list[str]:
        """The human summary: one line per stage, role and task, slowest first."""
        out = []
        for what, items in (("stage", self.stages), ("role", self.roles), ("task", self.tasks)):
            for item in items:
                where = f" ({item.stage})" if item.stage and what != "stage" else ""
                out.append(f"slowest {what}: {item.name}{where} {item.duration_s:.1f} s")
        return out


def _top(totals: Mapping[tuple[str, str | None], float], top: int) -> tuple[Timed, ...]:
    ranked = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0][0], kv[0][1] or ""))
    return tuple(Timed(name, round(seconds, 3), stage) for (name, stage), seconds in ranked[:top])


def timing_report(stages: Iterable[tuple[str, float | None]],
                  tasks: Mapping[str, Iterable[TaskTime]], top: int = TOP) -> TimingReport:
    """The report of a run from its stages' durations (None: it did not run) and each
    stage's task times. A task or role that runs in several plays counts once, summed."""
    stage_totals: dict[tuple[str, str | None], float] = {}
    for name, seconds in stages:
        if seconds is not None:
            stage_totals[(name, None)] = seconds
    role_totals: dict[tuple[str, str | None], float] = {}
    task_totals: dict[tuple[str, str | None], float] = {}
    for stage, times in tasks.items():
        for time in times:
            if time.role:
                key = (time.role, stage)
                role_totals[key] = role_totals.get(key, 0.0) + time.duration_s
            name = f"{time.role} : {time.task}" if time.role else time.task
            task_totals[(name, stage)] = task_totals.get((name, stage), 0.0) + time.duration_s
    return TimingReport(_top(stage_totals, top), _top(role_totals, top), _top(task_totals, top))
