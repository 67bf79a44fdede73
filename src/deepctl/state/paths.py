"""Every path of the per-cluster state directory: ``.deepctl/<cluster>/`` beside the spec.

Layout (docs/architecture.md, "State directory")::

    .deepctl/<cluster>/             0700
      inventory/                    the inventory as last rendered (validate, dry run, runs);
                                    no run reads it: each run renders its own copy
      inventory/artifacts/          Kubespray's artifacts_dir (admin.conf, 0600)
      inventory/credentials/        Kubespray's credentials_dir
      known_hosts                   SSH host keys of this cluster's hosts
      facts/<host>.json             facts gathered by preflight
      facts-cache/                  Ansible's fact cache (shared by the runs of this cluster)
      ssh/                          ControlPersist sockets
      secrets/                      generated addon secrets (0600)
      stages.json                   the stage ledger: what finished, with which inputs
      preflight-hosts.json          host keys and machine-ids preflight last passed with
      pending-nodes.json            hosts add-node put in the spec but not yet in the cluster
      task-counts.json              tasks per playbook, for the progress bar's total
      kubespray-validate/           validate's run of Kubespray's inventory checks
      runs/<run-id>/                one directory per run (runs.md; :class:`RunDir`)
      lock                          the cluster lock

Every path to a state file is a property here; nothing else joins state file names
(tests/unit/test_design_rules.py checks it). :meth:`StateDir.create` hands the directories
it defines to state_guard, which keeps no copy of the layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from deepctl.fsutil import ensure_private_dir
from deepctl.state_guard import check_state_dir

STATE_DIR_NAME = ".deepctl"


@dataclass(frozen=True)
class RunDir:
    """The layout of one run's directory, ``runs/<run-id>/`` (docs/runs.md)."""

    path: Path

    @property
    def state_file(self) -> Path:
        """``state.json``: stages, status, timings, inputs hashes."""
        return self.path / "state.json"

    @property
    def spec_copy(self) -> Path:
        return self.path / "spec.yaml"

    @property
    def inventory_dir(self) -> Path:
        """The inventory this run's playbooks read (rendered for this run alone)."""
        return self.path / "inventory"

    @property
    def ansible_cfg(self) -> Path:
        return self.path / "ansible.cfg"

    @property
    def env_file(self) -> Path:
        """The environment deepctl set for ansible-playbook (no secrets)."""
        return self.path / "env.json"

    @property
    def log(self) -> Path:
        return self.path / "deepctl.log"

    def ansible_dir(self, stage: str) -> Path:
        """ansible-runner's private data dir and artifacts of ``stage``'s playbooks."""
        return self.path / "ansible" / stage

    def list_tasks_vars(self, stage: str) -> Path:
        """The extra vars ``ansible-playbook --list-tasks`` reads (it counts the tasks)."""
        return self.ansible_dir(stage) / "list-tasks-extravars.json"

    def addon_dir(self, addon: str) -> Path:
        """An addon stage's values files and manifests."""
        return self.path / "addons" / addon

    @property
    def verify_dir(self) -> Path:
        """verify's rendered Jobs of this run (they may hold the launcher's key: 0600)."""
        return self.path / "verify"

    @property
    def verify_results(self) -> Path:
        """verify's findings, per node and check (``deepctl verify --compare`` reads them)."""
        return self.path / "verify-results.json"


@dataclass(frozen=True)
class StateDir:
    root: Path

    @classmethod
    def for_spec(cls, spec_path: Path, cluster_name: str, override: Path | None = None) -> StateDir:
        if override is not None:
            return cls(override.expanduser().resolve())
        return cls(spec_path.resolve().parent / STATE_DIR_NAME / cluster_name)

    def create(self) -> StateDir:
        # no links, foreign owners or writable dirs on any directory of the layout (state_guard)
        check_state_dir(self.guarded_dirs())
        ensure_private_dir(self.root)
        return self

    def guarded_dirs(self) -> list[Path]:
        """The directories of the layout, outermost first (``.deepctl`` above the default)."""
        outer = [self.root.parent] if self.root.parent.name == STATE_DIR_NAME else []
        inventory = [self.inventory_dir, self.inventory_dir / "group_vars",
                     self.inventory_dir / "group_vars" / "all",
                     self.inventory_dir / "group_vars" / "k8s_cluster"]
        return [*outer, self.root, *inventory, self.runs_dir, self.facts_dir, self.secrets_dir,
                self.ssh_dir, self.fact_cache, self.validate_dir, self.artifacts_dir,
                self.credentials_dir]

    @property
    def inventory_dir(self) -> Path:
        return self.root / "inventory"

    @property
    def hosts_file(self) -> Path:
        return self.inventory_dir / "hosts.yaml"

    @property
    def artifacts_dir(self) -> Path:
        """Kubespray's ``artifacts_dir``: ``kubeconfig_localhost`` writes admin.conf here."""
        return self.inventory_dir / "artifacts"

    @property
    def credentials_dir(self) -> Path:
        """Kubespray's ``credentials_dir`` (generated passwords, the kubeadm certificate key)."""
        return self.inventory_dir / "credentials"

    @property
    def kubeconfig(self) -> Path:
        return self.artifacts_dir / "admin.conf"

    @property
    def known_hosts(self) -> Path:
        return self.root / "known_hosts"

    @property
    def facts_dir(self) -> Path:
        return self.root / "facts"

    def facts_file(self, host: str) -> Path:
        return self.facts_dir / f"{host}.json"

    @property
    def fact_cache(self) -> Path:
        return self.root / "facts-cache"

    @property
    def ssh_dir(self) -> Path:
        return self.root / "ssh"

    @property
    def bastion_log(self) -> Path:
        """What the bastion hop's ssh logs (ProxyCommand stderr)."""
        return self.root / "bastion-ssh.log"

    @property
    def secrets_dir(self) -> Path:
        return self.root / "secrets"

    @property
    def ledger_file(self) -> Path:
        return self.root / "stages.json"

    @property
    def preflight_identity_file(self) -> Path:
        """Host keys and machine-ids preflight last passed with (preflight.identity)."""
        return self.root / "preflight-hosts.json"

    @property
    def pending_file(self) -> Path:
        return self.root / "pending-nodes.json"

    @property
    def task_counts_file(self) -> Path:
        return self.root / "task-counts.json"

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    def run_dir(self, run_id: str) -> Path:
        return self.runs_dir / run_id

    def run(self, run_id: str) -> RunDir:
        return RunDir(self.run_dir(run_id))

    @property
    def validate_dir(self) -> Path:
        """Work directory of ``deepctl validate``'s run of Kubespray's own checks."""
        return self.root / "kubespray-validate"

    @property
    def lock_file(self) -> Path:
        return self.root / "lock"
