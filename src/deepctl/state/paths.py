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
      runs/<run-id>/                one directory per run (runs.md)
      lock                          the cluster lock
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from deepctl.fsutil import ensure_private_dir
from deepctl.state_guard import check_state_dir

STATE_DIR_NAME = ".deepctl"


@dataclass(frozen=True)
class StateDir:
    root: Path

    @classmethod
    def for_spec(cls, spec_path: Path, cluster_name: str, override: Path | None = None) -> StateDir:
        if override is not None:
            return cls(override.expanduser().resolve())
        return cls(spec_path.resolve().parent / STATE_DIR_NAME / cluster_name)

    def create(self) -> StateDir:
        check_state_dir(self.root)  # no links, foreign owners or writable dirs (state_guard)
        ensure_private_dir(self.root)
        return self

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

    @property
    def validate_dir(self) -> Path:
        """Work directory of ``deepctl validate``'s run of Kubespray's own checks."""
        return self.root / "kubespray-validate"

    @property
    def lock_file(self) -> Path:
        return self.root / "lock"
