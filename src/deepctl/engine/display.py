"""Showing a run as it happens: live (rich) on a terminal, plain lines off one, JSON lines.

The engine calls the same methods on each; :func:`make_display` picks one.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.markup import escape
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from deepctl.consoles import make_console
from deepctl.engine.failure_report import failure_lines
from deepctl.engine.grouping import NoticeGroup, NoticeGrouper, Out
from deepctl.engine.progress import HostCounts, Notice, PlaybookProgress, RunFailure

STAGE_MARK = {"pending": "·", "running": "▶", "succeeded": "✓", "skipped": "-",
              "failed": "✗", "canceled": "■"}


def _clock() -> str:
    return datetime.now(UTC).strftime("%H:%M:%SZ")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{seconds:.1f}s"


class Display:
    """What the engine reports; subclasses decide how it looks."""

    def stages_planned(self, stages: list[tuple[str, str]]) -> None: ...
    def stage_started(self, name: str, title: str) -> None: ...
    def stage_finished(self, name: str, status: str, reason: str | None,
                       duration: float | None) -> None: ...
    def playbook_started(self, stage: str, progress: PlaybookProgress) -> None: ...
    def playbook_total(self, stage: str, progress: PlaybookProgress) -> None:
        """The task total became known mid-run (from ``--list-tasks``)."""
    def playbook_event(self, stage: str, progress: PlaybookProgress,
                       notices: list[Notice]) -> None: ...
    def message(self, text: str) -> None: ...
    def close(self) -> None: ...

    def failure(self, report: RunFailure) -> None:
        """What failed where, the log, and how to resume (after a failed playbook)."""
        for line in failure_lines(report):
            self.message(line)


class HeldNotices:
    """Per-host notices held for a few seconds and said once for all the hosts that had
    them (:class:`~deepctl.engine.grouping.NoticeGrouper`); a timer says a group when no
    event follows (Kubespray waits between retries). ``show`` gets what is due, in order."""

    def __init__(self, show: Callable[[list[Out]], None],
                 clock: Callable[[], float] = time.monotonic, window: float | None = None
                 ) -> None:
        self.show, self.clock = show, clock
        self.grouper = NoticeGrouper() if window is None else NoticeGrouper(window)
        self.lock = threading.Lock()
        self.timer: threading.Timer | None = None

    def add(self, stage: str, notices: list[Notice]) -> None:
        with self.lock:
            for notice in notices:
                self.show(self.grouper.add(stage, notice, self.clock()))
            self._arm()

    def flush(self) -> None:
        with self.lock:
            self.show(self.grouper.flush())
            if self.timer is not None:
                self.timer.cancel()
                self.timer = None

    def _on_timer(self) -> None:
        with self.lock:
            self.timer = None
            self.show(self.grouper.due(self.clock()))
            self._arm()

    def _arm(self) -> None:
        since = self.grouper.next_due()
        if since is None or self.timer is not None:
            return
        delay = max(0.0, since + self.grouper.window - self.clock())
        self.timer = threading.Timer(delay, self._on_timer)
        self.timer.daemon = True
        self.timer.start()


@dataclass
class PlainDisplay(Display):
    """Timestamped lines: one per stage change, task start and failure (CI, pipes). The same
    retry, failure or unreachable host on many hosts within a few seconds is one line
    (:mod:`deepctl.engine.grouping`); the run log keeps every host's."""

    stream: IO[str] = field(default_factory=lambda: sys.stdout)
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        self.held = HeldNotices(self._show, self.clock)

    def _line(self, text: str) -> None:
        self.stream.write(f"{_clock()} {text}\n")
        self.stream.flush()

    def _show(self, items: list[Out]) -> None:
        for stage, item in items:
            text = item.line() if isinstance(item, NoticeGroup) else item.text
            self._line(f"[{stage}] {item.kind.upper()} {text}")

    def stage_started(self, name: str, title: str) -> None:
        self.held.flush()
        self._line(f"[{name}] {title}")

    def stage_finished(self, name: str, status: str, reason: str | None,
                       duration: float | None) -> None:
        self.held.flush()
        extra = f" ({reason})" if reason else ""
        self._line(f"[{name}] {status}{extra} {_duration(duration)}".rstrip())

    def playbook_started(self, stage: str, progress: PlaybookProgress) -> None:
        total = f", {progress.total_tasks} tasks" if progress.total_tasks else ""
        self._line(f"[{stage}] ansible-playbook {progress.playbook}{total}")

    def playbook_total(self, stage: str, progress: PlaybookProgress) -> None:
        self._line(f"[{stage}] {progress.playbook}: {progress.total_tasks} tasks")

    def playbook_event(self, stage: str, progress: PlaybookProgress,
                       notices: list[Notice]) -> None:
        self.held.add(stage, notices)

    def message(self, text: str) -> None:
        self.held.flush()
        self._line(text)

    def failure(self, report: RunFailure) -> None:
        self.held.flush()
        super().failure(report)

    def close(self) -> None:
        self.held.flush()


@dataclass
class JsonDisplay(Display):
    """One JSON object per line (``--json``)."""

    stream: IO[str] = field(default_factory=lambda: sys.stdout)

    def _emit(self, event: str, **fields: Any) -> None:
        self.stream.write(json.dumps({"event": event, "time": _clock(), **fields}) + "\n")
        self.stream.flush()

    def stages_planned(self, stages: list[tuple[str, str]]) -> None:
        self._emit("stages_planned", stages=[{"stage": n, "title": t} for n, t in stages])

    def stage_started(self, name: str, title: str) -> None:
        self._emit("stage_started", stage=name, title=title)

    def stage_finished(self, name: str, status: str, reason: str | None,
                       duration: float | None) -> None:
        self._emit("stage_finished", stage=name, status=status, reason=reason,
                   duration_s=duration)

    def playbook_started(self, stage: str, progress: PlaybookProgress) -> None:
        self._emit("playbook_started", stage=stage, playbook=progress.playbook,
                   total_tasks=progress.total_tasks)

    def playbook_total(self, stage: str, progress: PlaybookProgress) -> None:
        self._emit("playbook_total", stage=stage, playbook=progress.playbook,
                   total_tasks=progress.total_tasks)

    def playbook_event(self, stage: str, progress: PlaybookProgress,
                       notices: list[Notice]) -> None:
        for notice in notices:
            fields: dict[str, Any] = {"stage": stage, "text": notice.text}
            if notice.failure is not None:
                fields.update(notice.failure.to_json())
            if notice.retry is not None:
                fields.update(host=notice.retry.host, task=notice.retry.task,
                              attempt=notice.retry.attempt, attempts=notice.retry.attempts,
                              reason=notice.retry.reason, url=notice.retry.url)
            self._emit(notice.kind, **fields)

    def message(self, text: str) -> None:
        self._emit("message", text=text)

    def failure(self, report: RunFailure) -> None:
        self._emit("run_failed", **report.to_json())


@dataclass
class LiveDisplay(Display):
    """A rich live view: stages with state and time, the running playbook, hosts, failures."""

    console: Console
    stages: dict[str, list[Any]] = field(default_factory=dict)  # name -> [title, status, t]
    stage: str | None = None
    progress: PlaybookProgress | None = None
    live: Live | None = None

    def __post_init__(self) -> None:
        self.held = HeldNotices(self._print_failures)
        self.live = Live(get_renderable=self.render, console=self.console,
                         refresh_per_second=4, transient=False)
        self.live.start()

    def _print_failures(self, items: list[Out]) -> None:
        """Failed and unreachable hosts above the live view, one line for many hosts."""
        for _, item in items:
            if item.kind in ("failed", "unreachable"):
                text = item.line() if isinstance(item, NoticeGroup) else item.text
                self.console.print(f"[red]{item.kind}[/] [bold]{escape(text)}[/]")

    def stages_planned(self, stages: list[tuple[str, str]]) -> None:
        for name, title in stages:
            self.stages[name] = [title, "pending", None, None]

    def stage_started(self, name: str, title: str) -> None:
        self.stages.setdefault(name, [title, "pending", None, None])
        self.stages[name][1:3] = ["running", time.monotonic()]
        self.stage, self.progress = name, None

    def stage_finished(self, name: str, status: str, reason: str | None,
                       duration: float | None) -> None:
        self.held.flush()
        entry = self.stages.setdefault(name, [name, status, None, None])
        entry[1], entry[3] = status, (_duration(duration) + (f" {reason}" if reason else "")).strip()
        if self.stage == name and status == "succeeded":
            self.progress = None

    def playbook_started(self, stage: str, progress: PlaybookProgress) -> None:
        self.progress = progress

    def playbook_event(self, stage: str, progress: PlaybookProgress,
                       notices: list[Notice]) -> None:
        self.progress = progress
        self.held.add(stage, notices)

    def message(self, text: str) -> None:
        self.held.flush()
        self.console.print(escape(text))

    def failure(self, report: RunFailure) -> None:
        self.close()
        body = "\n".join(escape(line) for line in failure_lines(report))
        self.console.print(Panel(body, title=f"[bold red]{escape(report.stage)} failed[/]",
                                 border_style="red", expand=False))

    def render(self) -> RenderableType:
        now = time.monotonic()
        parts: list[RenderableType] = [stage_lines(self.stages, now)]
        if self.progress is not None:
            parts.extend(self._playbook(self.progress, now))
        return Group(*parts)

    def _playbook(self, p: PlaybookProgress, now: float) -> list[RenderableType]:
        fraction = p.fraction()
        bar = ProgressBar(total=100, completed=(fraction or 0) * 100, width=40,
                          pulse=fraction is None)
        eta = p.eta(now)
        count = f"{p.tasks_started}/{p.total_tasks}" if p.total_tasks else f"{p.tasks_started}"
        line = Table.grid(padding=(0, 1))
        line.add_row(bar, Text(f"tasks {count}  elapsed {_duration(p.elapsed(now))}"
                               + (f"  eta {_duration(eta)}" if eta is not None else "")))
        task = Text(f"{p.playbook}: {p.play or ''} > {p.task or ''}", overflow="ellipsis",
                    no_wrap=True)
        parts: list[RenderableType] = [line, task]
        if p.retrying:
            parts.append(retry_lines(p))
        return [*parts, host_table(host_rows(p.hosts))]

    def close(self) -> None:
        self.held.flush()
        if self.live is not None:
            self.live.stop()
            self.live = None


# The live view is redrawn 4 times a second: it is built from plain aligned lines (a rich
# Table costs ~1 ms per row to lay out) and shows at most MAX_HOST_ROWS hosts, so that its
# cost does not grow with the cluster (bench/runner_overhead.py measures it).
MAX_HOST_ROWS = 12
HOST_HEADER = ("host", "ok", "changed", "failed", "unreachable")


def stage_lines(stages: dict[str, list[Any]], now: float) -> Text:
    """The stage list: mark, name, title, time; one line per stage (pure)."""
    rows = []
    for name, (title, status, started, note) in stages.items():
        when = _duration(now - started) if status == "running" and started else (note or "")
        style = {"failed": "red", "succeeded": "green", "running": "bold"}.get(status, "dim")
        rows.append((STAGE_MARK.get(status, "?"), name, str(title), when, style))
    name_w = max((len(r[1]) for r in rows), default=0)
    title_w = max((len(r[2]) for r in rows), default=0)
    text = Text(no_wrap=True, overflow="ellipsis")
    for i, (mark, name, title, when, style) in enumerate(rows):
        if i:
            text.append("\n")
        text.append(f"{mark} {name.ljust(name_w)}", style=style)
        text.append(f" {title.ljust(title_w)} ")
        text.append(when, style="dim")
    return text


MAX_RETRY_ROWS = 3


def retry_lines(progress: PlaybookProgress, limit: int = MAX_RETRY_ROWS) -> Text:
    """The retries under way (Kubespray's "FAILED - RETRYING"): host, task, attempt n of m."""
    retries = sorted(progress.retrying.values(), key=lambda r: r.host)
    text = Text(no_wrap=True, overflow="ellipsis", style="yellow")
    for i, retry in enumerate(retries[:limit]):
        why = f" ({retry.reason})" if retry.reason else ""
        tried = f"; it tried {retry.url}" if retry.url else ""
        text.append(("\n" if i else "") + f"retrying {retry.host}: {retry.task}: attempt "
                    f"{retry.attempt} of {retry.attempts} failed{why}{tried}")
    if len(retries) > limit:
        text.append(f"\n… {len(retries) - limit} more hosts retrying")
    return text


def host_rows(hosts: dict[str, HostCounts], limit: int = MAX_HOST_ROWS) -> list[tuple[str, ...]]:
    """Rows of the live host table (pure): hosts with failures first, then by name; past
    ``limit`` hosts, the last row adds up the hosts not shown."""
    def row(name: str, c: HostCounts) -> tuple[str, ...]:
        return (name, str(c.ok), str(c.changed), str(c.failed), str(c.unreachable))

    troubled = sorted(h for h, c in hosts.items() if c.failed or c.unreachable)
    ordered = troubled + sorted(h for h, c in hosts.items() if not (c.failed or c.unreachable))
    if len(ordered) <= limit:
        return [row(h, hosts[h]) for h in ordered]
    rest = [hosts[h] for h in ordered[limit - 1:]]
    total = HostCounts(ok=sum(c.ok for c in rest), changed=sum(c.changed for c in rest),
                       failed=sum(c.failed for c in rest),
                       unreachable=sum(c.unreachable for c in rest))
    shown = [row(h, hosts[h]) for h in ordered[:limit - 1]]
    return [*shown, row(f"… {len(rest)} more hosts", total)]


def host_table(rows: list[tuple[str, ...]]) -> Text:
    """``rows`` under a bold header, in aligned columns."""
    widths = [max(len(r[i]) for r in [HOST_HEADER, *rows]) for i in range(len(HOST_HEADER))]
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(" ".join(h.ljust(w) for h, w in zip(HOST_HEADER, widths, strict=True)).rstrip(),
                style="bold")
    for row in rows:
        text.append("\n" + " ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return text


def make_display(as_json: bool, stream: IO[str] | None = None) -> Display:
    out = stream or sys.stdout
    if as_json:
        return JsonDisplay(out)
    if out.isatty():
        return LiveDisplay(make_console(file=out))
    return PlainDisplay(out)
