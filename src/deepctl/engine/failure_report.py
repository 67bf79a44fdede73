"""A failed playbook as lines for people (pure): per host the task, its Kubespray component
and file, what the result said (deepctl.ansible.explain), then hints, the log and how to
resume. Every display (plain, live panel) prints these lines."""

from __future__ import annotations

from pathlib import Path

from deepctl.ansible.explain import hints
from deepctl.engine.progress import HostFailure, RunFailure
from deepctl.errors import PlaybookFailed


def host_failure_lines(failure: HostFailure) -> list[str]:
    """One failed host: the task, its component and file, then what its result said."""
    kind = "unreachable" if failure.unreachable else "failed"
    e = failure.explanation
    if e is None:
        return [f"  {failure.host}: {kind} at task {failure.task!r}: {failure.message}",
                *(f"    | {line}" for line in failure.stderr_tail)]
    where = ", ".join(p for p in (e.component and f"component {e.component}", e.task_path) if p)
    after = f" after {e.attempts} attempts" if e.attempts and e.attempts > 1 else ""
    lines = [f"  {failure.host}: {kind} at task {failure.task!r}"
             + (f" ({where})" if where else "") + f"{after}: {failure.message}"]
    if e.condition and e.condition not in failure.message:
        lines.append(f"    condition: {e.condition}")
    if e.file:
        lines.append(f"    file: {e.file}")
    if e.url:
        lines.append(f"    url: {e.url}")
    lines.extend(f"    {line}" for line in e.details)
    lines.extend(f"    | {line}" for line in failure.stderr_tail)
    return lines


def failure_lines(report: RunFailure) -> list[str]:
    """The failure panel's content as plain lines (pure)."""
    lines = [f"stage {report.stage} failed: {report.message}"]
    advice: list[str] = []
    for failure in report.failures:
        lines.extend(host_failure_lines(failure))
        if failure.explanation is not None:
            advice.extend(hints(failure.explanation, report.spec_path, report.resume))
    lines.extend(f"hint: {text}" for text in dict.fromkeys(advice))
    lines.append(f"log: {report.log}")
    lines.append(f"ansible artifacts: {report.artifact_dir}")
    if report.resume:
        lines.append(f"resume with: {report.resume}")
    return lines


def run_failure(error: PlaybookFailed, log: Path, resume: str | None,
                spec_path: Path | str) -> RunFailure:
    """A failed playbook as plain data for the display (``Display.failure``)."""
    failures = tuple(f for f in error.failures if isinstance(f, HostFailure))
    return RunFailure(error.stage, error.message, failures, str(error.artifact_dir), str(log),
                      resume, str(spec_path))
