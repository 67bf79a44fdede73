"""Each task's wall time in a playbook run, from ansible-runner's events (pure).

A task runs from its ``playbook_on_task_start`` to the start of the next task, the next
play or the end of the playbook (``playbook_on_stats``); a run cut short ends at the last
event seen. Only the events that start or end something are kept by :class:`TaskClock`
(one per task, not one per host), so a 5,000-host run keeps as few as a 5-host one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from deepctl.state.timing import TaskTime

MARKS = ("playbook_on_task_start", "playbook_on_play_start", "playbook_on_stats")


def _when(event: dict[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(str(event["created"]))
    except (KeyError, ValueError):
        return None


def task_times(events: Iterable[dict[str, Any]]) -> list[TaskTime]:
    """The tasks of one playbook run, in the order they started, with their wall time."""
    out: list[TaskTime] = []
    current: tuple[str, str, datetime] | None = None
    last: datetime | None = None
    for event in events:
        when = _when(event)
        if when is None:
            continue
        last = when
        kind = event.get("event")
        if kind not in MARKS:
            continue
        if current is not None:
            role, task, start = current
            out.append(TaskTime(role, task, round((when - start).total_seconds(), 3)))
            current = None
        if kind == "playbook_on_task_start":
            data = event.get("event_data") or {}
            current = (str(data.get("role") or ""), str(data.get("task") or "?"), when)
    if current is not None and last is not None:
        role, task, start = current
        out.append(TaskTime(role, task, round((last - start).total_seconds(), 3)))
    return out


class TaskClock:
    """Keeps what :func:`task_times` needs of a run's events as they come."""

    def __init__(self) -> None:
        self._marks: list[dict[str, Any]] = []
        self._last: dict[str, Any] | None = None

    def see(self, event: dict[str, Any]) -> None:
        if "created" not in event:
            return
        if event.get("event") in MARKS:
            data = event.get("event_data") or {}
            self._marks.append({"event": event["event"], "created": event["created"],
                                "event_data": {"role": data.get("role"),
                                               "task": data.get("task")}})
            self._last = None
        else:
            self._last = {"event": event.get("event"), "created": event["created"]}

    def times(self) -> list[TaskTime]:
        return task_times(self._marks + ([self._last] if self._last is not None else []))
