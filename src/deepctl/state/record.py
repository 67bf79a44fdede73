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
from deepctl.fsutil import atomic_write, atomic_write_json, ensure_private_dir
from deepctl.state.paths import RunDir, StateDir
from deepctl.state.runs import read_all, read_state, run_dirs
from deepctl.state.types import SCHEMA_VERSION, RunResult, StageStatus
from deepctl.user_input import MAX_SPEC_BYTES, read_input


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_run_id(command: str, now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{command}-{secrets.token_hex(2)}"


@dataclass
class RunRecord:
    """The run being made: its directory, its state (as written) and its log."""

    state: StateDir
    dir: Path
    data: dict[str, Any]
    _started: float = field(default_factory=time.monotonic)

    @property
    def id(self) -> str:
        return str(self.data["id"])

    @property
    def spec_path(self) -> str:
        return str(self.data["spec_path"])

    @property
    def duration_s(self) -> float | None:
        """How long the run took (None while it runs)."""
        value = self.data.get("duration_s")
        return float(value) if value is not None else None

    @property
    def remaining(self) -> list[str]:
        """The stages a finished in-order run left to do (not selected)."""
        return [str(n) for n in self.data.get("remaining") or []]

    def set_remaining(self, names: list[str]) -> None:
        self.data["remaining"] = list(names)
        self.save()

    def stage_with(self, statuses: tuple[StageStatus, ...]) -> str | None:
        """The first stage (in run order) whose status is one of ``statuses``."""
        for name, entry in self.data["stages"].items():
            if entry.get("status") in statuses:
                return str(name)
        return None

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
        atomic_write_json(self.paths.state_file, self.data)

    def discard(self) -> None:
        """Remove the run: refused before anything ran, it is not one."""
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self, line: str) -> None:
        fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            handle.write(f"{utc_now()} {line}\n")

    def stage(self, name: str) -> dict[str, Any]:
        stages: dict[str, Any] = self.data["stages"]
        order: list[str] = self.data.setdefault("stage_order", [])
        if name not in order:
            order.append(name)  # state.json's keys are sorted: this keeps the run's order
        return stages.setdefault(name, {"status": "pending"})  # type: ignore[no-any-return]

    def set_stage(self, name: str, status: StageStatus, **fields: Any) -> None:
        entry = self.stage(name)
        entry["status"] = status
        if status == "running":
            entry["started_at"] = utc_now()
        elif status in ("succeeded", "failed", "canceled"):
            entry["finished_at"] = utc_now()
        entry.update(dict(fields.items()))
        self.save()
        self.log(f"stage {name}: {status}" + (f" ({fields['reason']})" if "reason" in fields
                                              else ""))

    def finish(self, result: RunResult, failed_stage: str | None = None, error: str | None = None
               ) -> None:
        self.data["result"] = result
        self.data["failed_stage"] = failed_stage
        self.data["finished_at"] = utc_now()
        self.data["duration_s"] = round(time.monotonic() - self._started, 3)
        if error:
            self.data["error"] = error
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
    data: dict[str, Any] = {
        "version": SCHEMA_VERSION,
        "id": run_id,
        "command": command,
        "args": args or {},
        "spec_path": str(spec_path),
        "spec_hash": spec_hash,
        "started_at": utc_now(),
        "started_ns": time.time_ns(),
        "finished_at": None,
        "duration_s": None,
        "result": "running",
        "failed_stage": None,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "stages": {},
    }
    record = RunRecord(state, run_dir, data)
    record.save()
    record.log(f"run {run_id}: deepctl {command} {spec_path}")
    return record


def last_run(state: StateDir, command: str) -> dict[str, Any] | None:
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
    return next((d for d in read_all(state) if d.get("command") == command), None)


def mark_interrupted(state: StateDir, pid: int, host: str) -> list[str]:
    """Record the runs left ``running`` by a dead deepctl (``pid`` on ``host``) as interrupted.

    Returns their ids. Called once the cluster lock of that process has been taken over.
    """
    marked = []
    for run_dir in run_dirs(state):
        try:
            data = read_state(run_dir)
        except StateError:
            continue
        if data.get("result") != "running" or (data.get("pid"), data.get("host")) != (pid, host):
            continue
        stages = data.get("stages") or {}
        running = [n for n, e in stages.items() if isinstance(e, dict) and e.get("status")
                   == "running"]
        for name in running:
            stages[name]["status"] = "interrupted"
        data.update(result="interrupted", failed_stage=running[0] if running else None,
                    error=f"deepctl (PID {pid} on {host}) ended without finishing this run")
        atomic_write_json(RunDir(run_dir).state_file, data)
        marked.append(str(data.get("id", run_dir.name)))
    return marked
