"""One playbook over several executors (``spec.executors``): control plane and etcd first on
the primary, then the other hosts in one ``--limit`` slice per executor, all at once, merged
into the one live progress view, run log and run record (docs/executor.md).

- The slices are computed by :func:`deepctl.executor.slices.plan_slices` (pure).
- Each slice is its own ansible-runner transmit | worker | process stream with its own
  ident (``PLAYBOOK-sliceN``: ``runs/RUN/ansible/STAGE/artifacts/PLAYBOOK-sliceN/``); its
  events keep their host and feed one :class:`PlaybookProgress`. The slices run the same
  tasks, so a task is announced (and counted) once, by the slice that reaches it first.
- A slice that fails does not stop the others: they finish their hosts (a worker half
  upgraded is worse than one done), then the stage fails naming the slice, its executor and
  the host. The ledger records the stage as failed, so the same command reruns it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from deepctl.ansible.remote import RemoteJob
from deepctl.ansible.runner import AnsibleTools, PlaybookResult, PlaybookRun, run_playbooks
from deepctl.clusterspec.models import Cluster
from deepctl.engine.display import Display
from deepctl.engine.progress import HostFailure, PlaybookProgress
from deepctl.engine.signals import CancelToken
from deepctl.engine.task_clock import TaskClock
from deepctl.errors import Canceled, DeepctlError, PlaybookFailed
from deepctl.executor.slices import Slice, plan_slices
from deepctl.executor.target import ExecutorTarget
from deepctl.fsutil import ensure_private_dir
from deepctl.names import summary
from deepctl.state import StateDir
from deepctl.state.record import RunRecord
from deepctl.state.taskcounts import load_task_counts, save_task_count

PINNED_ROLES = frozenset({"control-plane", "etcd"})
Handler = Callable[[dict[str, Any]], None]
JobBuilder = Callable[[PlaybookRun, dict[str, str]], RemoteJob]


class Ansible(Protocol):
    """What a sliced run needs of the engine's :class:`deepctl.engine.playbooks.Ansible`."""

    record: RunRecord
    display: Display
    token: CancelToken

    @property
    def state(self) -> StateDir: ...
    @property
    def cluster(self) -> Cluster: ...
    @property
    def tools(self) -> AnsibleTools: ...
    def executors(self) -> list[ExecutorTarget]: ...
    def job_builder(self, target: ExecutorTarget) -> JobBuilder | None: ...
    def run(self, stage: str, playbook: str, *, limit: str | None = None,
            extravars: dict[str, Any] | None = None, on_event: Handler | None = None,
            spread: Sequence[str] | None = None) -> PlaybookResult: ...
    def playbook_run(self, data_dir: Path, playbook: str, extravars: dict[str, Any],
                     limit: str | None, ident: str, remote: JobBuilder | None
                     ) -> PlaybookRun: ...
    def event_handler(self, stage: str, progress: PlaybookProgress, on_event: Handler | None,
                      *, announced: bool, clock: TaskClock) -> Handler: ...
    def failure(self, stage: str, playbook: str, result: PlaybookResult,
                failures: list[HostFailure]) -> PlaybookFailed: ...


def run_sliced(ans: Ansible, stage: str, playbook: str, hosts: Sequence[str],
               extravars: dict[str, Any], on_event: Handler | None) -> PlaybookResult:
    """``playbook`` on ``hosts`` over the spec's executors; raise on failure or cancel."""
    targets = ans.executors()
    pinned = {h.name for h in ans.cluster.spec.hosts if PINNED_ROLES & set(h.roles)}
    plan = plan_slices(hosts, pinned, len(targets))
    if plan.pinned is None and not plan.slices:  # nothing named: one plain run
        return ans.run(stage, playbook, extravars=extravars, on_event=on_event)
    result = None
    if plan.pinned is not None:
        ans.record.log(f"stage {stage}: control plane and etcd first, on {targets[0].label}")
        result = ans.run(stage, playbook, limit=plan.pinned.limit, extravars=extravars,
                         on_event=on_event)
    if plan.slices:
        result = _run_slices(ans, stage, playbook, plan.slices, targets, extravars, on_event)
    assert result is not None
    return result


def slice_label(index: int, count: int, part: Slice, target: ExecutorTarget) -> str:
    """``slice 2 of 3 (executor root@10.0.0.6:22, --limit gpu[051-100])`` (pure)."""
    return (f"slice {index + 1} of {count} ({target.label}, "
            f"--limit {summary(list(part.hosts))})")


def _run_slices(ans: Ansible, stage: str, playbook: str, parts: Sequence[Slice],
                targets: Sequence[ExecutorTarget], extravars: dict[str, Any],
                on_event: Handler | None) -> PlaybookResult:
    key = f"{playbook}@slices{len(parts)}"
    known = load_task_counts(ans.state).get(key)
    progress = PlaybookProgress(playbook, total_tasks=known)
    ans.display.playbook_started(stage, progress)
    data_dir = ensure_private_dir(ans.record.paths.ansible_dir(stage))
    lock = threading.Lock()
    started = [0] * len(parts)
    clocks = [TaskClock() for _ in parts]
    runs, handlers = [], []
    for k, part in enumerate(parts):
        target = targets[part.executor]
        ans.record.log(f"stage {stage}: ansible-playbook {playbook} "
                       f"{slice_label(k, len(parts), part, target)}")
        runs.append(ans.playbook_run(data_dir, playbook, extravars, part.limit,
                                     f"{Path(playbook).stem}-slice{k + 1}",
                                     ans.job_builder(target)))
        inner = ans.event_handler(stage, progress, on_event, announced=known is not None,
                                  clock=clocks[k])
        handlers.append(_merged(k, inner, clocks[k], started, lock))
    try:
        results = run_playbooks(runs, handlers, lambda: ans.token.canceled, ans.tools)
    finally:
        for clock in clocks:
            ans.record.add_task_times(stage, clock.times())
    if ans.token.canceled or any(isinstance(r, PlaybookResult) and r.status == "canceled"
                                 for r in results):
        raise Canceled(f"canceled during {playbook} (stage {stage})")
    _raise_failed(ans, stage, playbook, parts, targets, results, progress)
    save_task_count(ans.state, key, progress.tasks_started)
    done = [r for r in results if isinstance(r, PlaybookResult)]
    return PlaybookResult(0, "successful", merged_stats([r.stats for r in done]),
                          done[0].artifact_dir)


def _merged(k: int, inner: Handler, clock: TaskClock, started: list[int],
            lock: threading.Lock) -> Handler:
    """Slice ``k``'s events into the shared progress; a task start that another slice
    announced already is only timed."""

    def handle(event: dict[str, Any]) -> None:
        with lock:
            if event.get("event") == "playbook_on_task_start":
                started[k] += 1
                ahead = max((n for j, n in enumerate(started) if j != k), default=0)
                if started[k] <= ahead:
                    clock.see(event)
                    return
            inner(event)

    return handle


def merged_stats(stats: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """ansible-runner's per-host stats of several slices, as one (pure)."""
    out: dict[str, dict[str, Any]] = {}
    for one in stats:
        for name, by_host in one.items():
            if isinstance(by_host, dict):
                out.setdefault(name, {}).update(by_host)
    return dict(out)


def _raise_failed(ans: Ansible, stage: str, playbook: str, parts: Sequence[Slice],
                  targets: Sequence[ExecutorTarget],
                  results: Sequence[PlaybookResult | DeepctlError],
                  progress: PlaybookProgress) -> None:
    """The first failed slice's error, naming it (and any other failed slice)."""
    failed = [k for k, r in enumerate(results)
              if not isinstance(r, PlaybookResult) or r.rc != 0 or r.status != "successful"]
    if not failed:
        return
    labels = {k: slice_label(k, len(parts), parts[k], targets[parts[k].executor])
              for k in failed}
    also = "".join(f"; {labels[k]} failed too" for k in failed[1:])
    first = failed[0]
    outcome = results[first]
    if isinstance(outcome, DeepctlError):
        outcome.message = f"{labels[first]}: {outcome.message}{also}"
        raise outcome
    hosts = set(parts[first].hosts)
    error = ans.failure(stage, playbook, outcome,
                        [f for f in progress.failures if f.host in hosts])
    error.message = error.message.replace(f"{playbook} failed",
                                          f"{playbook} failed in {labels[first]}", 1) + also
    raise error
