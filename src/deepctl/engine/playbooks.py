"""Running Kubespray playbooks for a run: settings, progress, cancel, failure details."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deepctl.ansible.runner import PlaybookResult, PlaybookRun, run_playbook
from deepctl.engine import ansible_settings
from deepctl.engine.display import Display
from deepctl.engine.progress import HostFailure, PlaybookProgress, apply_event
from deepctl.engine.runrecord import RunRecord, copy_inventory
from deepctl.engine.signals import CancelToken
from deepctl.errors import AnsibleError, Canceled
from deepctl.fsutil import atomic_write, atomic_write_json, ensure_private_dir
from deepctl.kubespray_source import KubesprayTree
from deepctl.spec.models import Cluster
from deepctl.statedir import StateDir

TASK_COUNTS_FILE = "task-counts.json"


class PlaybookFailed(AnsibleError):
    """A playbook failed on one or more hosts; carries what failed where."""

    def __init__(self, message: str, failures: list[HostFailure], stage: str,
                 artifact_dir: Path, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.failures = failures
        self.stage = stage
        self.artifact_dir = artifact_dir

    def details(self) -> dict[str, Any]:
        return {"stage": self.stage, "failures": [f.to_json() for f in self.failures],
                "artifacts": str(self.artifact_dir)}


@dataclass
class Ansible:
    """Runs playbooks of one Kubespray tree for one run, with deepctl's settings."""

    state: StateDir
    record: RunRecord
    tree: KubesprayTree
    cluster: Cluster
    display: Display
    token: CancelToken
    settings: ansible_settings.AnsibleSettings = field(init=False)

    def __post_init__(self) -> None:
        self.settings = ansible_settings.settings_for(self.cluster, self.state.root,
                                                      self.state.known_hosts)

    @property
    def config_path(self) -> Path:
        return self.record.dir / "ansible.cfg"

    def prepare(self) -> None:
        """Write this run's ansible.cfg and env.json; create the cache and socket dirs."""
        ensure_private_dir(self.settings.fact_cache)
        ensure_private_dir(self.settings.control_dir)
        text = ansible_settings.render_ansible_cfg(
            self.settings, ansible_settings.read_base_cfg(self.tree.path), self.tree.path)
        atomic_write(self.config_path, text)
        atomic_write_json(self.record.dir / "env.json", self.envvars())

    def envvars(self) -> dict[str, str]:
        return {"ANSIBLE_CONFIG": str(self.config_path), "ANSIBLE_FORCE_COLOR": "0",
                "ANSIBLE_NOCOLOR": "1"}

    def run(self, stage: str, playbook: str, *, limit: str | None = None,
            extravars: dict[str, Any] | None = None,
            on_event: Callable[[dict[str, Any]], None] | None = None) -> PlaybookResult:
        """Run ``playbook`` (relative to the tree); raise on failure or cancel."""
        if not self.config_path.exists():
            self.prepare()
        if not (self.record.dir / "inventory").exists():
            copy_inventory(self.record)
        key = playbook + (f"@{limit}" if limit else "")
        progress = PlaybookProgress(playbook, total_tasks=self._task_counts().get(key))
        self.display.playbook_started(stage, progress)
        self.record.log(f"stage {stage}: ansible-playbook {playbook}"
                        + (f" --limit {limit}" if limit else ""))

        def handle(event: dict[str, Any]) -> None:
            if on_event is not None:
                on_event(event)
            notices = apply_event(progress, event)
            for notice in notices:
                if notice.kind != "task":
                    self.record.log(f"stage {stage}: {notice.kind}: {notice.text}")
                else:
                    self.record.log(f"stage {stage}: TASK {notice.text}")
            if notices:
                self.display.playbook_event(stage, progress, notices)

        data_dir = ensure_private_dir(self.record.dir / "ansible" / stage)
        run = PlaybookRun(
            private_data_dir=data_dir, playbook=self.tree.playbook(playbook),
            inventory=self.state.inventory_dir, envvars=self.envvars(),
            extravars=extravars or {}, limit=limit, forks=self.settings.forks,
            cmdline="--become" if self.cluster.spec.ssh.become else None,
            ident=Path(playbook).stem, settings={"pexpect_timeout": 0.5},
        )
        result = run_playbook(run, handle, lambda: self.token.canceled)
        return self._check(stage, playbook, key, result, progress)

    def _check(self, stage: str, playbook: str, key: str, result: PlaybookResult,
               progress: PlaybookProgress) -> PlaybookResult:
        if result.status == "canceled" or self.token.canceled:
            raise Canceled(f"canceled during {playbook} (stage {stage})")
        if result.rc != 0 or result.status != "successful":
            hosts = sorted({f.host for f in progress.failures})
            where = f" on {', '.join(hosts)}" if hosts else ""
            raise PlaybookFailed(
                f"{playbook} failed{where} (rc {result.rc})", progress.failures, stage,
                result.artifact_dir,
                hint=f"ansible output: {result.artifact_dir / 'stdout'}")
        counts = self._task_counts()
        counts[key] = progress.tasks_started
        atomic_write_json(self.state.root / TASK_COUNTS_FILE, counts)
        return result

    def _task_counts(self) -> dict[str, int]:
        try:
            data = json.loads((self.state.root / TASK_COUNTS_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): int(v) for k, v in data.items()} if isinstance(data, dict) else {}
