"""Ansible events -> a progress model (pure). Renderers live in :mod:`deepctl.engine.display`.

:func:`apply_event` folds one ansible-runner event into :class:`PlaybookProgress` and returns
what is worth telling a person right away (:class:`Notice`: a task started, a host failed,
a task is retried). Failures are explained by :mod:`deepctl.ansible.explain`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from deepctl.ansible.explain import Explanation, HostTrail, Retry, explain, observe, retry_of


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
    explanation: Explanation | None = None

    @classmethod
    def of(cls, host: str, explanation: Explanation) -> HostFailure:
        return cls(host, explanation.task, explanation.message, explanation.stderr_tail,
                   explanation.unreachable, explanation)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"host": self.host, "task": self.task, "message": self.message,
                               "stderr": list(self.stderr_tail), "unreachable": self.unreachable}
        e = self.explanation
        if e is not None:
            out.update({"component": e.component, "taskPath": e.task_path,
                        "condition": e.condition, "url": e.url, "file": e.file,
                        "hidden": e.hidden, "details": list(e.details),
                        "attempts": e.attempts})
        return out


@dataclass(frozen=True)
class Notice:
    kind: str  # "play" | "task" | "failed" | "unreachable" | "retry"
    text: str
    host: str | None = None
    failure: HostFailure | None = None
    retry: Retry | None = None


@dataclass(frozen=True)
class RunFailure:
    """A failed playbook as the display shows it (plain data, see ``Display.failure``)."""

    stage: str
    message: str
    failures: tuple[HostFailure, ...]
    artifact_dir: str
    log: str
    resume: str | None = None
    spec_path: str = ""  # the spec file, named in hints

    def to_json(self) -> dict[str, Any]:
        return {"stage": self.stage, "message": self.message, "log": self.log,
                "resume": self.resume, "artifacts": self.artifact_dir,
                "failures": [f.to_json() for f in self.failures]}


@dataclass
class PlaybookProgress:
    playbook: str
    total_tasks: int | None = None
    play: str | None = None
    task: str | None = None
    tasks_started: int = 0
    hosts: dict[str, HostCounts] = field(default_factory=dict)
    failures: list[HostFailure] = field(default_factory=list)
    retrying: dict[str, Retry] = field(default_factory=dict)  # host -> its retry under way
    trails: dict[str, HostTrail] = field(default_factory=dict)
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


def retry_text(retry: Retry) -> str:
    """``cp1: Download_file | Download item: attempt 2 of 5 failed (reason), retrying``, and
    for a hidden download whose URL is known, ``; it tried URL``."""
    why = f" ({retry.reason})" if retry.reason else ""
    tried = f"; it tried {retry.url}" if retry.url else ""
    return (f"{retry.host}: {retry.task}: attempt {retry.attempt} of {retry.attempts} "
            f"failed{why}, retrying{tried}")


def failure_text(failure: HostFailure) -> str:
    """One line for a failed host: what, where (component) and the result's message."""
    e = failure.explanation
    where = f" [{e.component}]" if e is not None and e.component else ""
    return f"{failure.host}: {failure.task}{where}: {failure.message}"


def _failure(progress: PlaybookProgress, data: dict[str, Any], host: str,
             unreachable: bool) -> HostFailure:
    progress.retrying.pop(host, None)
    failure = HostFailure.of(host, explain(data, progress.trails.get(host), unreachable))
    progress.failures.append(failure)
    return failure


DownloadUrl = Callable[[str, str], str | None]  # (host, file) -> the URL a hidden download tried


def apply_event(progress: PlaybookProgress, event: dict[str, Any],
                download_url: DownloadUrl | None = None) -> list[Notice]:
    """Fold one ansible-runner event into ``progress``; return what to show now.

    ``download_url`` names the URL of a hidden download (Kubespray's ``no_log``) on its first
    retry, while Kubespray waits before the next attempt: the user sees what the host tried
    to fetch long before the last attempt fails."""
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
        progress.retrying.clear()
        return [Notice("task", progress.task)]
    if counts is None:
        return []
    if kind == "runner_on_ok":
        res = data.get("res") or {}
        if isinstance(res, dict) and res.get("changed"):
            counts.changed += 1
        else:
            counts.ok += 1
        progress.retrying.pop(host, None)
        trail = progress.trails.get(host)
        if trail is None:
            trail = progress.trails[host] = HostTrail()
        observe(trail, data)
    elif kind == "runner_on_skipped":
        counts.skipped += 1
    elif kind == "runner_retry":
        retry = retry_of(data, progress.trails.get(host))
        if retry is not None:
            if retry.file and download_url is not None:
                retry = replace(retry, url=download_url(host, retry.file))
            progress.retrying[host] = retry
            return [Notice("retry", retry_text(retry), host, retry=retry)]
    elif kind == "runner_on_failed":
        if data.get("ignore_errors"):
            counts.ok += 1
            progress.retrying.pop(host, None)
            return []
        counts.failed += 1
        failure = _failure(progress, data, host, unreachable=False)
        return [Notice("failed", failure_text(failure), host, failure)]
    elif kind == "runner_on_unreachable":
        counts.unreachable += 1
        failure = _failure(progress, data, host, unreachable=True)
        return [Notice("unreachable", f"{host}: unreachable: {failure.message}", host, failure)]
    return []
