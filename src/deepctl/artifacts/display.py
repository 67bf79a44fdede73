"""How a pull or a push shows its progress: a live bar on a terminal, plain lines off it.

Both are :class:`deepctl.artifacts.progress.Reporter`\\ s, called from worker threads.
Plain lines never cut an identifier (a file path, an image reference).
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, TextIO

from deepctl.artifacts.progress import ItemResult, Kind, Reporter, Summary

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

LABELS: dict[Kind, str] = {"file": "files", "image": "images", "chart": "charts"}
CHECKED = {
    "sha256": "already there (sha256 verified)",
    "digests": "already there (blob digests verified)",
    "unchanged": "already there (unchanged since it was fetched; no checksum to verify)",
    "registry": "already there (same digest in the registry)",
}


def human_bytes(size: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


def result_line(result: ItemResult, verb: str = "fetched") -> str:
    if result.status == "failed":
        return f"{result.kind} {result.name}: FAILED: {result.error}"
    if result.status == "skipped":
        how = CHECKED.get(result.checked, "already there")
        return f"{result.kind} {result.name}: {how}, skipped"
    size = f" ({human_bytes(result.size)})" if result.size else ""
    return f"{result.kind} {result.name}: {verb}{size}"


class PlainReporter:
    """One line per finished item, for logs and pipes."""

    def __init__(self, stream: TextIO, verb: str = "fetched") -> None:
        self.stream = stream
        self.verb = verb
        self._lock = threading.Lock()

    def begin(self, kind: Kind, total: int) -> None:
        if total:
            self._write(f"{LABELS[kind]}: {total} to check")

    def advance(self, kind: Kind, nbytes: int) -> None:
        pass

    def done(self, result: ItemResult) -> None:
        self._write(result_line(result, self.verb))

    def close(self) -> None:
        pass

    def _write(self, line: str) -> None:
        with self._lock:
            self.stream.write(line + "\n")
            self.stream.flush()


class LiveReporter:
    """A rich progress bar per kind, with items done, bytes and speed; failures printed."""

    def __init__(self, console: Console) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.console = console
        self.progress: Progress = Progress(
            TextColumn("{task.description:<7}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[transfer]}"), TimeElapsedColumn(),
            console=console, transient=False,
        )
        self._tasks: dict[Kind, TaskID] = {}
        self._bytes: dict[Kind, int] = {}
        self._started: dict[Kind, float] = {}
        self._lock = threading.Lock()
        self.progress.start()

    def begin(self, kind: Kind, total: int) -> None:
        if total:
            with self._lock:
                self._bytes[kind] = 0
                self._started[kind] = time.monotonic()
                self._tasks[kind] = self.progress.add_task(LABELS[kind], total=total,
                                                           transfer="")

    def advance(self, kind: Kind, nbytes: int) -> None:
        with self._lock:
            self._bytes[kind] = self._bytes.get(kind, 0) + nbytes
            task = self._tasks.get(kind)
            if task is not None:
                self.progress.update(task, transfer=self._transfer(kind))

    def _transfer(self, kind: Kind) -> str:
        total = self._bytes.get(kind, 0)
        elapsed = max(time.monotonic() - self._started.get(kind, time.monotonic()), 1e-3)
        return f"{human_bytes(total)} at {human_bytes(total / elapsed)}/s" if total else ""

    def done(self, result: ItemResult) -> None:
        with self._lock:
            task = self._tasks.get(result.kind)
            if task is not None:
                self.progress.advance(task)
        if result.status == "failed":
            from rich.markup import escape

            self.progress.console.print(f"[red]✗[/] {escape(result_line(result))}")

    def close(self) -> None:
        self.progress.stop()


def reporter_for(console: Console, stream: TextIO, verb: str) -> Reporter:
    """The live bar on a terminal, plain lines otherwise."""
    if console.is_terminal:
        return LiveReporter(console)
    return PlainReporter(stream, verb)


def summary_lines(summary: Summary) -> list[str]:
    """The closing summary: per kind, how many moved, were already there, failed."""
    moved = "fetched" if summary.verb == "pull" else "pushed"
    order: tuple[Kind, ...] = ("file", "chart", "image")
    lines = []
    for kind in order:
        fetched, skipped, failed = (summary.count(kind, "fetched"), summary.count(kind, "skipped"),
                                    summary.count(kind, "failed"))
        if fetched or skipped or failed:
            lines.append(f"{LABELS[kind]}: {fetched} {moved}, {skipped} already there, "
                         f"{failed} failed")
    rejected = summary.rejected()
    if summary.transferred() or rejected:
        moved_bytes = human_bytes(summary.transferred() + rejected)
        lines.append(f"downloaded: {moved_bytes}" + (
            f" ({human_bytes(rejected)} of it rejected and not kept)" if rejected else ""))
    return lines
