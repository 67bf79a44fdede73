"""Running Kubespray playbooks for a run: settings, progress, cancel, failure details."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from deepctl.ansible import settings as ansible_settings
from deepctl.ansible.environment import kubespray_dirs
from deepctl.ansible.explain import hints
from deepctl.ansible.remote import RemoteJob
from deepctl.ansible.runner import (
    AnsibleTools,
    PlaybookResult,
    PlaybookRun,
    find_tools,
    run_playbook,
)
from deepctl.ansible.tasklist import TaskCounter, list_tasks_argv
from deepctl.clusterspec.models import Cluster
from deepctl.engine.display import Display
from deepctl.engine.progress import (
    HostFailure,
    PlaybookProgress,
    apply_event,
    failure_text,
)
from deepctl.engine.signals import CancelToken
from deepctl.engine.slices import run_sliced
from deepctl.engine.task_clock import TaskClock
from deepctl.errors import Canceled, DeepctlError, HostKeyMismatch, PlaybookFailed
from deepctl.executor.job import job_builder
from deepctl.executor.target import ExecutorTarget, executor_targets
from deepctl.fsutil import atomic_write, atomic_write_json, ensure_private_dir
from deepctl.kubespray.downloads import cached_architecture, download_url
from deepctl.kubespray.source import KubesprayTree
from deepctl.kubevars.render import write_inventory
from deepctl.names import summary
from deepctl.preflight.identity import host_keys
from deepctl.shellwords import record_host_keys_command
from deepctl.ssh.known_hosts import host_key_name
from deepctl.state import StateDir
from deepctl.state.record import RunRecord
from deepctl.state.taskcounts import load_task_counts, save_task_count
from deepctl.workspace import Workspace

LISTED = "#listed"  # task-counts key suffix of a --list-tasks estimate
HOST_KEY_FAILED = "Host key verification failed"  # OpenSSH
MITOGEN_HOST_KEY_FAILED = "SSH reported an unrecognized or mismatching host key"  # Mitogen


BASTION = "(bastion)"  # the bastion among host names (which never hold parentheses)


# OpenSSH's banner for a changed key: it comes first, and a long message is cut before the
# closing HOST_KEY_FAILED line.
HOST_KEY_CHANGED = "REMOTE HOST IDENTIFICATION HAS CHANGED"


def host_key_refused(text: str) -> bool:
    """Pure: does this error text say ssh refused a host key (plain ssh or Mitogen)?"""
    return any(marker in text for marker in
               (HOST_KEY_FAILED, HOST_KEY_CHANGED, MITOGEN_HOST_KEY_FAILED))


@dataclass
class Ansible:
    """Runs playbooks of one Kubespray tree for one run, with deepctl's settings.

    It is the engine's side of :class:`deepctl.stages.context.PlaybookRunner`.
    """

    workspace: Workspace
    record: RunRecord
    tree: KubesprayTree
    display: Display
    token: CancelToken
    settings: ansible_settings.AnsibleSettings = field(init=False)
    _download_urls: dict[str, str | None] = field(init=False, default_factory=dict)
    _env: dict[str, str] | None = field(init=False, default=None)

    @property
    def state(self) -> StateDir:
        return self.workspace.state

    @property
    def cluster(self) -> Cluster:
        return self.workspace.cluster

    def __post_init__(self) -> None:
        self.settings = ansible_settings.settings_for(self.cluster, self.state)

    @property
    def config_path(self) -> Path:
        return self.record.paths.ansible_cfg

    def prepare(self) -> None:
        """Write this run's ansible.cfg, env.json and inventory; create the cache and socket
        directories."""
        ensure_private_dir(self.settings.fact_cache)
        ensure_private_dir(self.settings.control_dir)
        text = ansible_settings.render_ansible_cfg(
            self.settings, ansible_settings.read_base_cfg(self.tree.path), self.tree.path)
        atomic_write(self.config_path, text)
        atomic_write_json(self.record.paths.env_file, self.envvars())
        self.render_inventory()

    def render_inventory(self) -> None:
        """Write the spec as it is now into this run's own inventory (what it reads)."""
        write_inventory(self.record.inventory_dir, self.workspace.inventory)

    def use(self, workspace: Workspace) -> None:
        """The spec changed during the run (node commands): render it for the next playbooks."""
        self.workspace = workspace
        self._download_urls.clear()  # the mirror settings may have changed with it
        self.render_inventory()

    @cached_property
    def tools(self) -> AnsibleTools:
        """ansible-playbook and its wrapper, looked up once per run."""
        return find_tools()

    def _executor(self) -> Callable[[PlaybookRun, dict[str, str]], RemoteJob] | None:
        """spec.executor (or spec.executors' primary): its job builder for this run's
        playbooks (docs/executor.md)."""
        targets = self.executors()
        return self.job_builder(targets[0]) if targets else None

    def executors(self) -> list[ExecutorTarget]:
        """spec.executor, or spec.executors with the primary first; empty: Ansible runs here."""
        return executor_targets(self.cluster, self.state.known_hosts,
                                self.workspace.spec.directory, self.workspace.spec.path)

    def job_builder(self, target: ExecutorTarget
                    ) -> Callable[[PlaybookRun, dict[str, str]], RemoteJob] | None:
        return job_builder(target, self.cluster, self.state, self.tree.path, self.settings,
                           self.workspace.spec.directory)

    def envvars(self) -> dict[str, str]:
        """The environment of every Ansible process of the run (built once): the playbooks
        and their ``--list-tasks`` alike."""
        if self._env is None:
            self._env = self.tools.env(self.config_path)
        return self._env

    def extravars(self, extra: dict[str, Any] | None) -> dict[str, Any]:
        return {**kubespray_dirs(self.state), **(extra or {})}

    def run(self, stage: str, playbook: str, *, limit: str | None = None,
            extravars: dict[str, Any] | None = None,
            on_event: Callable[[dict[str, Any]], None] | None = None,
            spread: Sequence[str] | None = None) -> PlaybookResult:
        """Run ``playbook`` (relative to the tree); raise on failure or cancel. ``spread``:
        the hosts it works on, split over spec.executors when there are several
        (:mod:`deepctl.engine.slices`); else ignored (one run, ``limit``)."""
        if not self.config_path.exists():
            self.prepare()
        if spread is not None and len(self.executors()) > 1:
            return run_sliced(self, stage, playbook, list(spread), self.extravars(extravars),
                              on_event)
        extravars = self.extravars(extravars)
        key = playbook + (f"@{limit}" if limit else "")
        counts = load_task_counts(self.state)
        # a run that finished counted its tasks; else an earlier --list-tasks estimated them
        known = counts.get(key) or counts.get(key + LISTED)
        progress = PlaybookProgress(playbook, total_tasks=known)
        self.display.playbook_started(stage, progress)
        self.record.log(f"stage {stage}: ansible-playbook {playbook}"
                        + (f" --limit {limit}" if limit else ""))
        data_dir = ensure_private_dir(self.record.paths.ansible_dir(stage))
        # Kubespray's playbooks are long: count their tasks when no earlier run did; deepctl's
        # own (absolute paths: verify, addons, node checks) are a few tasks, not worth it.
        counter = None if known or Path(playbook).is_absolute() else self._count_tasks(
            stage, playbook, data_dir, progress, limit, extravars)
        clock = TaskClock()  # each task's wall time, for the run's timing report
        handle = self.event_handler(stage, progress, on_event, announced=known is not None,
                                    clock=clock)
        run = self.playbook_run(data_dir, playbook, extravars, limit, Path(playbook).stem,
                                self._executor())
        hop_offset = self._bastion_log_size()
        try:
            result = run_playbook(run, handle, lambda: self.token.canceled, self.tools)
        finally:
            if counter is not None:
                counter.stop()
            self.record.add_task_times(stage, clock.times())
        return self._check(stage, playbook, key, result, progress, hop_offset)

    def playbook_run(self, data_dir: Path, playbook: str, extravars: dict[str, Any],
                     limit: str | None, ident: str,
                     remote: Callable[[PlaybookRun, dict[str, str]], RemoteJob] | None
                     ) -> PlaybookRun:
        return PlaybookRun(
            private_data_dir=data_dir, playbook=self.tree.playbook(playbook),
            inventory=self.record.inventory_dir, envvars=self.envvars(),
            extravars=extravars, limit=limit, forks=self.settings.forks,
            cmdline="--become" if self.cluster.spec.ssh.become else None,
            ident=ident, settings={"pexpect_timeout": 0.5},
            fact_cache=self.settings.fact_cache, remote=remote,
        )

    def _bastion_log_size(self) -> int:
        log = self.settings.bastion_log
        try:
            return log.stat().st_size if log is not None else 0
        except OSError:
            return 0

    def _bastion_errors(self, offset: int) -> list[str]:
        """What the bastion hop's ssh logged since ``offset`` (its stderr is not kept)."""
        if self.settings.bastion_log is None:
            return []
        try:
            with self.settings.bastion_log.open("rb") as handle:
                handle.seek(offset)
                text = handle.read().decode("utf-8", errors="replace")
        except OSError:
            return []
        return [line.strip() for line in text.splitlines() if line.strip()]

    def event_handler(self, stage: str, progress: PlaybookProgress,
                      on_event: Callable[[dict[str, Any]], None] | None, *, announced: bool,
                      clock: TaskClock) -> Callable[[dict[str, Any]], None]:
        """Events -> progress, the task clock, the run's log and the display (and
        ``on_event``)."""
        told = [announced]  # the total, once --list-tasks found it

        def handle(event: dict[str, Any]) -> None:
            clock.see(event)
            if on_event is not None:
                on_event(event)
            if not told[0] and progress.total_tasks:
                told[0] = True
                self.display.playbook_total(stage, progress)
            notices = apply_event(progress, event, self._download_url)
            for notice in notices:
                what = "TASK" if notice.kind == "task" else f"{notice.kind}:"
                self.record.log(f"stage {stage}: {what} {notice.text}")
            if notices:
                self.display.playbook_event(stage, progress, notices)

        return handle

    def _count_tasks(self, stage: str, playbook: str, data_dir: Path,
                     progress: PlaybookProgress, limit: str | None,
                     extravars: dict[str, Any] | None) -> TaskCounter | None:
        """Start ``--list-tasks`` in the background; it fills in ``progress.total_tasks``."""
        try:
            vars_file = None
            if extravars:
                vars_file = self.record.paths.list_tasks_vars(stage)
                atomic_write_json(vars_file, extravars)
            argv = list_tasks_argv(self.tools.playbook, self.tree.playbook(playbook),
                                   self.record.inventory_dir,
                                   limit=limit, extravars_file=vars_file)
        except (DeepctlError, TypeError, ValueError):
            return None  # no total then: the bar stays indeterminate
        env = {**os.environ, **self.envvars()}

        def on_total(total: int) -> None:
            if progress.total_tasks is None:
                progress.total_tasks = total
            # kept: a run that keeps failing (an air-gapped download, say) lists once, not
            # on every try (3-4 s of CPU beside the real run for cluster.yml)
            save_task_count(self.state, playbook + (f"@{limit}" if limit else "") + LISTED, total)
            self.record.log(f"stage {stage}: {playbook}: {total} tasks "
                            "(ansible-playbook --list-tasks)")

        try:
            return TaskCounter(argv, env, data_dir, on_total)
        except OSError:
            return None

    def _check(self, stage: str, playbook: str, key: str, result: PlaybookResult,
               progress: PlaybookProgress, hop_offset: int = 0) -> PlaybookResult:
        if result.status == "canceled" or self.token.canceled:
            raise Canceled(f"canceled during {playbook} (stage {stage})")
        if result.rc != 0 or result.status != "successful":
            failures = with_download_urls(progress.failures, self._hidden_download_url)
            raise failed_error(stage, playbook, result, failures, self.state,
                               self._bastion_errors(hop_offset),
                               spec_path=self.record.spec_path,
                               unknown_keys=unknown_host_keys(self.cluster, self.state))
        save_task_count(self.state, key, progress.tasks_started)
        return result

    def failure(self, stage: str, playbook: str, result: PlaybookResult,
                failures: list[HostFailure]) -> PlaybookFailed:
        """The error for ``playbook`` failed with ``failures`` (one slice's, say)."""
        return failed_error(stage, playbook, result,
                            with_download_urls(failures, self._hidden_download_url),
                            self.state, spec_path=self.record.spec_path,
                            unknown_keys=unknown_host_keys(self.cluster, self.state))

    def _hidden_download_url(self, failure: HostFailure) -> str | None:
        e = failure.explanation
        if e is None or e.file is None:
            return None
        return self._download_url(failure.host, e.file)

    def _download_url(self, host: str, file: str) -> str | None:
        """The URL a hidden download of ``file`` tried (one evaluation per file and run: the
        file name holds version and architecture). First asked on the download's first retry,
        i.e. while Kubespray waits before the next attempt."""
        if file not in self._download_urls:
            self.record.log(f"{host}: evaluating Kubespray's downloads for the URL of {file} "
                            "(output hidden)")
            self._download_urls[file] = download_url(
                self.tree.path, self.record.inventory_dir, host, file,
                architecture=cached_architecture(self.settings.fact_cache, host))
        return self._download_urls[file]


def with_download_urls(failures: list[HostFailure],
                       resolve: Callable[[HostFailure], str | None]) -> list[HostFailure]:
    """``failures`` with the URL of each hidden download that has none (from ``resolve``;
    called once per file name)."""
    known: dict[str, str | None] = {}
    out = []
    for failure in failures:
        e = failure.explanation
        if e is None or not e.hidden or e.url or not e.file:
            out.append(failure)
            continue
        if e.file not in known:
            known[e.file] = resolve(failure)
        url = known[e.file]
        out.append(replace(failure, explanation=replace(e, url=url)) if url else failure)
    return out


def unknown_host_keys(cluster: Cluster, state: StateDir) -> frozenset[str]:
    """The hosts (and :data:`BASTION`) of which the cluster's known_hosts holds no key."""
    text = state.known_hosts.read_text(encoding="utf-8") if state.known_hosts.exists() else ""
    names = {host.name: host_key_name(host.address, host.ssh.port or cluster.spec.ssh.port)
             for host in cluster.spec.hosts}
    bastion = cluster.spec.ssh.bastion
    if bastion is not None:
        names[BASTION] = host_key_name(bastion.address, bastion.port)
    return frozenset(host for host, name in names.items() if not host_keys(text, name))


def failed_error(stage: str, playbook: str, result: PlaybookResult, failures: list[HostFailure],
                 state: StateDir, hop_errors: list[str] | None = None, *,
                 spec_path: str | Path, unknown_keys: frozenset[str] = frozenset()
                 ) -> PlaybookFailed:
    """The error for a failed playbook; a refused host key gets its own (exit 3).

    ``hop_errors`` is what the bastion hop's ssh logged during the run (if any). The message
    names the first failure (task, component, what it said); the hint adds what to do, as
    commands for ``spec_path`` that run as printed. ``unknown_keys``: the hosts (and
    :data:`BASTION`) of which ``known_hosts`` holds no key at all: ssh refused them because no
    key is known yet (preflight records it), not because the key changed.
    """
    hosts = sorted({f.host for f in failures})
    where = f" on {summary(hosts)}" if hosts else ""
    hop = list(dict.fromkeys(hop_errors or []))[-3:]
    via = f" (through the bastion: {'; '.join(hop)})" if hop else ""
    output = f"ansible output: {result.artifact_dir / 'stdout'}"
    refused = sorted({f.host for f in failures if host_key_refused(f.message)})
    if refused or any(host_key_refused(line) for line in hop):
        named = refused or [BASTION]
        whose = summary(refused) if refused else "the bastion (spec.ssh.bastion)"
        if all(name in unknown_keys for name in named):
            return HostKeyMismatch(
                f"{playbook} failed{where}: no SSH host key of {whose} is known yet{via}",
                failures, stage, result.artifact_dir,
                hint=f"deepctl records host keys when preflight first connects: run "
                f"`{record_host_keys_command(spec_path)}` to check "
                "the hosts and record their keys (trust on first use), then run this "
                "command again; " + output)
        changed = ", ".join(name if name != BASTION else "the bastion"
                            for name in named if name not in unknown_keys)
        return HostKeyMismatch(
            f"{playbook} failed{where}: ssh refused the host key of {whose}{via}", failures,
            stage, result.artifact_dir,
            hint=f"the key that {changed} presented is not the one in {state.known_hosts}; if that "
            "machine was reinstalled, remove its old line there and run "
            f"`{record_host_keys_command(spec_path)}` to record the "
            "new key; " + output)
    first = f": {failure_text(failures[0])}" if failures else ""
    advice = [text for f in failures if f.explanation is not None
              for text in hints(f.explanation, str(spec_path))]
    return PlaybookFailed(f"{playbook} failed{where} (rc {result.rc}){via}{first}", failures,
                          stage, result.artifact_dir,
                          hint="; ".join([*dict.fromkeys(advice), output]))
