"""Run a playbook on an executor with ansible-runner's own streaming protocol.

``transmit`` (here, in-process) streams the job's private data directory and arguments into
``ansible-runner worker`` on the executor (started by :attr:`RemoteJob.worker_argv`, an ssh
command line); the worker runs ``ansible-playbook`` there and streams its events, status and
finally its artifact directory back; ``process`` (here, in-process) hands each event to the
same handler a local run uses and writes ``job_events/`` and the artifacts where a local run
would. Cancel: :attr:`RemoteJob.cancel_argv` sends the worker SIGTERM (ansible-runner then
kills ``ansible-playbook`` and its forks and streams ``canceled`` back); if nothing comes back
within :data:`CANCEL_GRACE_S`, the ssh connection is closed.

What the job holds (paths on the executor, keys, the inventory) is built above this layer
(:mod:`deepctl.executor.job`); this module only moves the streams.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from deepctl.errors import AnsibleError

CANCEL_GRACE_S = 8.0  # worker's answer to SIGTERM, then the connection is cut
POLL_S = 0.2
STATS_KEYS = ("changed", "dark", "failures", "ignored", "ok", "processed", "rescued", "skipped")


@dataclass
class RemoteJob:
    """One playbook run on the executor, ready to send."""

    label: str  # "executor root@10.0.0.5:22", for messages
    stage_dir: Path  # what transmit streams (the worker's private data dir), here
    kwargs: dict[str, Any]  # ansible_runner.run's arguments as the worker sees them
    worker_argv: list[str]  # starts `ansible-runner worker`; its stdin/stdout are the stream
    cancel_argv: list[str]  # SIGTERM to that worker
    cleanup_argv: list[str]  # removes the job (and ssh control sockets) from the executor
    finish: Callable[[Path], None] = field(default=lambda _artifacts: None)  # artifacts back
    tree_bytes: int = 0  # sent before this job: the Kubespray tree, when the executor lacked it
    check_command: str = "deepctl executor check"  # as hints print it, with the spec path


@dataclass
class RemoteOutcome:
    rc: int
    status: str
    stats: dict[str, Any]
    artifact_dir: Path


def stats_of(event: dict[str, Any]) -> dict[str, Any] | None:
    """Pure: ansible-runner's ``stats`` from a ``playbook_on_stats`` event, else None."""
    if event.get("event") != "playbook_on_stats":
        return None
    data = event.get("event_data") or {}
    return {key: data.get(key) or {} for key in STATS_KEYS}


def read_rc(artifact_dir: Path) -> int | None:
    try:
        return int((artifact_dir / "rc").read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None


def run_remote(job: RemoteJob, private_data_dir: Path, ident: str,
               on_event: Callable[[dict[str, Any]], bool],
               should_cancel: Callable[[], bool]) -> RemoteOutcome:
    """transmit | worker (over ssh) | process; events go to ``on_event`` as they come."""
    import ansible_runner  # heavy: only when a playbook really runs

    stats: dict[str, Any] = {}
    seen: list[str] = []  # tasks started, for a connection lost mid-run

    def handle(event: dict[str, Any]) -> bool:
        if event.get("event") == "playbook_on_task_start":
            seen.append(str((event.get("event_data") or {}).get("task", "")))
        found = stats_of(event)
        if found is not None:
            stats.update(found)
        return on_event(event)

    with tempfile.TemporaryFile() as stderr, subprocess.Popen(
            job.worker_argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
            start_new_session=True) as worker:
        assert worker.stdin is not None and worker.stdout is not None
        sent: list[BaseException] = []
        stream = CountingStream(worker.stdin)
        sender = threading.Thread(target=_transmit, args=(job, stream, sent), daemon=True)
        sender.start()
        done = threading.Event()
        canceled = threading.Event()
        watcher = threading.Thread(target=_watch, args=(job, worker, should_cancel, done,
                                                        canceled), daemon=True)
        watcher.start()
        try:
            processor = ansible_runner.interface.run(
                streamer="process", _input=worker.stdout, private_data_dir=str(private_data_dir),
                ident=ident, quiet=True, event_handler=handle, cancel_callback=lambda: False)
        finally:
            done.set()
            worker.stdout.close()
            watcher.join()
        code = worker.wait()
        sender.join(timeout=5)
        stderr.seek(0)
        errors = stderr.read().decode("utf-8", errors="replace").strip()
    artifact_dir = Path(processor.artifact_dir)
    status = "canceled" if canceled.is_set() else str(processor.status)
    _cleanup(job)
    if status in ("error", "unstarted") and not canceled.is_set():
        if seen:
            raise AnsibleError(
                f"{job.label}: the connection was lost during task {seen[-1]!r} "
                f"({_last_line(errors) or f'ssh exited with {code}'})",
                hint="check the network to the executor; the worker there was stopped. "
                "Rerun the same command to resume at this stage")
        raise _worker_error(job, code, errors, sent, artifact_dir)
    job.finish(artifact_dir)
    write_transfer(artifact_dir, {"tree_bytes": job.tree_bytes, "job_bytes": stream.count,
                                  "executor": job.label})
    rc = read_rc(artifact_dir)
    return RemoteOutcome(rc=rc if rc is not None else (0 if status == "successful" else -1),
                         status=status, stats=stats, artifact_dir=artifact_dir)


TRANSFER_FILE = "executor-transfer.json"  # in the run's artifact dir: bytes sent


def write_transfer(artifact_dir: Path, counts: dict[str, int | str]) -> None:
    with contextlib.suppress(OSError):
        (artifact_dir / TRANSFER_FILE).write_text(json.dumps(counts) + "\n", encoding="utf-8")


class CountingStream(io.RawIOBase):
    """The worker's stdin, counting the bytes transmit writes (what Base64IO needs)."""

    name = "<executor>"

    def __init__(self, target: IO[bytes]) -> None:
        self.target, self.count = target, 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.target.write(data)
        self.count += len(data)
        return len(data)

    def flush(self) -> None:
        self.target.flush()

    def close(self) -> None:
        super().close()
        self.target.close()


def _transmit(job: RemoteJob, stream: IO[bytes], failures: list[BaseException]) -> None:
    import ansible_runner

    try:
        ansible_runner.interface.run(streamer="transmit", _output=stream,
                                     private_data_dir=str(job.stage_dir), **job.kwargs)
    except (OSError, ValueError) as exc:  # the worker went away while we were sending
        failures.append(exc)
    finally:
        with contextlib.suppress(OSError):
            stream.close()
        shutil.rmtree(job.stage_dir, ignore_errors=True)  # it holds copies of SSH keys


def _watch(job: RemoteJob, worker: subprocess.Popen[bytes], should_cancel: Callable[[], bool],
           done: threading.Event, canceled: threading.Event) -> None:
    """On cancel: SIGTERM to the worker; cut the connection when it does not end in time."""
    while not done.wait(POLL_S):
        if should_cancel():
            canceled.set()
            break
    if not canceled.is_set():
        return
    with contextlib.suppress(subprocess.TimeoutExpired):
        subprocess.run(job.cancel_argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=CANCEL_GRACE_S, check=False)
    if not done.wait(CANCEL_GRACE_S):
        worker.kill()


def _cleanup(job: RemoteJob) -> None:
    with contextlib.suppress(subprocess.TimeoutExpired):
        subprocess.run(job.cleanup_argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60, check=False)


def _worker_error(job: RemoteJob, code: int, errors: str, sent: list[BaseException],
                  artifact_dir: Path) -> AnsibleError:
    explanation = _explanation(artifact_dir)
    said = "; ".join(line for line in errors.splitlines()[-3:] if line.strip())
    what = said or explanation or (str(sent[0]) if sent else f"ssh exited with {code}")
    hint = (f"run `{job.check_command}` to see what the executor lacks"
            if "ansible-runner" in what or code == 127 else
            f"check the executor's address, login and host key: `{job.check_command}`")
    return AnsibleError(f"{job.label}: the ansible-runner worker did not run: {what}", hint=hint)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _explanation(artifact_dir: Path) -> str:
    try:
        status = json.loads((artifact_dir / "status").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    return str(status.get("job_explanation", "")) if isinstance(status, dict) else ""
