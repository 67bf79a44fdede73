"""One run's directory and its ``state.json``, rewritten atomically after every change.

Layout of ``<state>/runs/<run-id>/`` (docs/runs.md)::

    state.json        stages, status, timings, inputs hashes (schema "version": 1)
    spec.yaml         the spec as applied
    inventory/        the rendered inventory as used
    ansible.cfg       deepctl's Ansible settings for this run
    env.json          environment deepctl set for ansible-playbook (no secrets)
    deepctl.log       the human log
    ansible/<stage>/  ansible-runner's private data dir and artifacts, per playbook

The run's ``inventory/`` is rendered for this run alone: Ansible reads it and nothing else
writes it, so ``validate`` or ``deploy --dry-run`` of the same spec during the run (they
render into ``<state>/inventory/``) cannot change what the run's playbooks see.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from deepctl.errors import StateError
from deepctl.fsutil import atomic_write, ensure_private_dir
from deepctl.state.documents import write_document
from deepctl.state.paths import RunDir, StateDir
from deepctl.state.run_state import RunState
from deepctl.state.runs import read_all, read_state, run_dirs
from deepctl.state.timing import TaskTime, TimingReport, timing_report
from deepctl.state.types import RunResult, StageStatus
from deepctl.user_input import MAX_SPEC_BYTES, read_input


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_run_id(command: str, now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{command}-{secrets.token_hex(2)}"


@dataclass
class RunRecord:
    """The run being made: its directory, its state (:class:`RunState`, as written) and its log."""

    state: StateDir
    dir: Path
    run: RunState
    _started: float = field(default_factory=time.monotonic)

    @property
    def id(self) -> str:
        return self.run.id

    @property
    def spec_path(self) -> str:
        return self.run.spec_path

    @property
    def duration_s(self) -> float | None:
        """How long the run took (None while it runs)."""
        return self.run.duration_s

    @property
    def remaining(self) -> list[str]:
        """The stages a finished in-order run left to do (not selected)."""
        return list(self.run.remaining)

    @property
    def timing(self) -> TimingReport | None:
        """The slowest stages, roles and tasks (once the run finished)."""
        return self.run.timing

    def set_remaining(self, names: list[str]) -> None:
        self.run.remaining = list(names)
        self.save()

    def stage_with(self, statuses: tuple[StageStatus, ...]) -> str | None:
        """The first stage (in run order) whose status is one of ``statuses``."""
        return next((name for name, s in self.run.stages.items() if s.status in statuses), None)

    @property
    def paths(self) -> RunDir:
        """Every path of the run's directory."""
        return RunDir(self.dir)

    @property
    def inventory_dir(self) -> Path:
        """The inventory this run's playbooks read (rendered by the engine at the start)."""
        return self.paths.inventory_dir

    @property
    def log_path(self) -> Path:
        return self.paths.log

    def save(self) -> None:
        write_document(self.paths.state_file, self.run.to_json())

    def discard(self) -> None:
        """Remove the run: refused before anything ran, it is not one."""
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self, line: str) -> None:
        fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            handle.write(f"{utc_now()} {line}\n")

    def set_stage(self, name: str, status: StageStatus, *, duration_s: float | None = None,
                  inputs_hash: str | None = None, reason: str | None = None,
                  error: str | None = None) -> None:
        entry = self.run.stage(name)
        entry.status = status
        if status == "running":
            entry.started_at = utc_now()
        elif status in ("succeeded", "failed", "canceled"):
            entry.finished_at = utc_now()
        entry.duration_s = duration_s if duration_s is not None else entry.duration_s
        entry.inputs_hash = inputs_hash if inputs_hash is not None else entry.inputs_hash
        entry.reason = reason if reason is not None else entry.reason
        entry.error = error if error is not None else entry.error
        self.save()
        self.log(f"stage {name}: {status}" + (f" ({reason})" if reason is not None else ""))

    def add_task_times(self, name: str, times: list[TaskTime]) -> None:
        """The tasks one playbook of stage ``name`` ran, with their wall time."""
        if times:
            self.run.stage(name).tasks.extend(times)
            self.save()

    def finish(self, result: RunResult, failed_stage: str | None = None, error: str | None = None
               ) -> None:
        run = self.run
        run.result = result
        run.failed_stage = failed_stage
        run.finished_at = utc_now()
        run.duration_s = round(time.monotonic() - self._started, 3)
        if error:
            run.error = error
        run.timing = timing_report([(n, s.duration_s) for n, s in run.stages.items()],
                                   {n: s.tasks for n, s in run.stages.items()})
        self.save()
        self.log(f"run {result}" + (f" at stage {failed_stage}" if failed_stage else "")
                 + (f": {error}" if error else ""))


def start_run(state: StateDir, command: str, spec_path: Path, spec_hash: str,
              args: dict[str, Any] | None = None) -> RunRecord:
    """Create the run directory, copy the spec into it, write the first ``state.json``."""
    ensure_private_dir(state.runs_dir)
    run_id = new_run_id(command)
    run_dir = ensure_private_dir(state.runs_dir / run_id)
    atomic_write(RunDir(run_dir).spec_copy, read_input(spec_path, MAX_SPEC_BYTES, "spec"))
    run = RunState(id=run_id, command=command, args=dict(args or {}), spec_path=str(spec_path),
                   spec_hash=spec_hash, started_at=utc_now(), started_ns=time.time_ns(),
                   pid=os.getpid(), host=socket.gethostname())
    record = RunRecord(state, run_dir, run)
    record.save()
    record.log(f"run {run_id}: deepctl {command} {spec_path}")
    return record


def last_run(state: StateDir, command: str) -> RunState | None:
    """The newest readable run record of ``command`` (for resume), or None.

    The newest run's ``state.json`` must be readable: a corrupt one, or one written by a
    newer deepctl, is a :class:`StateError` rather than a silently older resume point.
    """
    newest = run_dirs(state)[:1]
    if newest and RunDir(newest[0]).state_file.exists():
        try:
            read_state(newest[0])
        except StateError as error:
            error.hint = error.hint or (
                f"move {newest[0]} out of {state.runs_dir} (it is kept for inspection), "
                "or run again with --restart to run every stage again")
            raise
    return next((run for run in read_all(state) if run.command == command), None)


def mark_interrupted(state: StateDir, pid: int, host: str) -> list[str]:
    """Record the runs left ``running`` by a dead deepctl (``pid`` on ``host``) as interrupted.

    Returns their ids. Called once the cluster lock of that process has been taken over.
    """
    marked = []
    for run_dir in run_dirs(state):
        try:
            run = read_state(run_dir)
        except StateError:
            continue
        if run.result != "running" or (run.pid, run.host) != (pid, host):
            continue
        running = [n for n, s in run.stages.items() if s.status == "running"]
        for name in running:
            run.stages[name].status = "interrupted"
        run.result = "interrupted"
        run.failed_stage = running[0] if running else None
        run.error = f"deepctl (PID {pid} on {host}) ended without finishing this run"
        write_document(RunDir(run_dir).state_file, run.to_json())
        marked.append(run.id)
    return marked
