"""Ansible events -> a progress model (pure). Renderers live in :mod:`deepctl.engine.display`.

:func:`apply_event` folds one ansible-runner event into :class:`PlaybookProgress` and returns
what is worth telling a person right away (:class:`Notice`: a task started, a host failed).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

STDERR_TAIL_LINES = 10


@dataclass
class HostCounts:
    ok: int = 0
    changed: int = 0
    failed: int = 0
    unreachable: int = 0
    skipped: int = 0


@dataclass(frozen=True)
class HostFailure:
    host: str
    task: str
    message: str
    stderr_tail: tuple[str, ...] = ()
    unreachable: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"host": self.host, "task": self.task, "message": self.message,
                "stderr": list(self.stderr_tail), "unreachable": self.unreachable}


@dataclass(frozen=True)
class Notice:
    kind: str  # "play" | "task" | "failed" | "unreachable"
    text: str
    host: str | None = None
    failure: HostFailure | None = None


@dataclass
class PlaybookProgress:
    playbook: str
    total_tasks: int | None = None
    play: str | None = None
    task: str | None = None
    tasks_started: int = 0
    hosts: dict[str, HostCounts] = field(default_factory=dict)
    failures: list[HostFailure] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def elapsed(self, now: float | None = None) -> float:
        return (now if now is not None else time.monotonic()) - self.started

    def fraction(self) -> float | None:
        if not self.total_tasks:
            return None
        return min(1.0, self.tasks_started / self.total_tasks)

    def eta(self, now: float | None = None) -> float | None:
        """Seconds left, assuming tasks keep their average pace so far."""
        fraction = self.fraction()
        if fraction is None or fraction <= 0 or self.tasks_started < 3:
            return None
        elapsed = self.elapsed(now)
        return max(0.0, elapsed / fraction - elapsed)


def _result_message(res: dict[str, Any]) -> str:
    for key in ("msg", "stderr", "reason", "module_stderr", "stdout"):
        value = res.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip().splitlines()[0] if key != "msg" else value.strip()
    return "failed (no message)"


def _stderr_tail(res: dict[str, Any]) -> tuple[str, ...]:
    text = res.get("stderr") or res.get("module_stderr") or ""
    if not isinstance(text, str):
        return ()
    return tuple(text.rstrip().splitlines()[-STDERR_TAIL_LINES:])


def _failure(data: dict[str, Any], host: str, unreachable: bool) -> HostFailure:
    res = data.get("res") if isinstance(data.get("res"), dict) else {}
    assert isinstance(res, dict)
    return HostFailure(host=host, task=str(data.get("task", "")), message=_result_message(res),
                       stderr_tail=_stderr_tail(res), unreachable=unreachable)


def apply_event(progress: PlaybookProgress, event: dict[str, Any]) -> list[Notice]:
    """Fold one ansible-runner event into ``progress``; return what to show now."""
    kind = event.get("event", "")
    data = event.get("event_data") or {}
    host = str(data.get("host") or "")
    counts = None
    if host:  # (not setdefault: that would build a HostCounts for every event)
        counts = progress.hosts.get(host)
        if counts is None:
            counts = progress.hosts[host] = HostCounts()
    if kind == "playbook_on_play_start":
        progress.play = str(data.get("play", ""))
        return [Notice("play", progress.play)]
    if kind == "playbook_on_task_start":
        progress.task = str(data.get("task", ""))
        progress.tasks_started += 1
        return [Notice("task", progress.task)]
    if counts is None:
        return []
    if kind == "runner_on_ok":
        res = data.get("res") or {}
        if isinstance(res, dict) and res.get("changed"):
            counts.changed += 1
        else:
            counts.ok += 1
    elif kind == "runner_on_skipped":
        counts.skipped += 1
    elif kind == "runner_on_failed":
        if data.get("ignore_errors"):
            counts.ok += 1
            return []
        counts.failed += 1
        failure = _failure(data, host, unreachable=False)
        progress.failures.append(failure)
        return [Notice("failed", f"{host}: {failure.task}: {failure.message}", host, failure)]
    elif kind == "runner_on_unreachable":
        counts.unreachable += 1
        failure = _failure(data, host, unreachable=True)
        progress.failures.append(failure)
        return [Notice("unreachable", f"{host}: unreachable: {failure.message}", host, failure)]
    return []
