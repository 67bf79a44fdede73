"""The per-cluster state directory: ``.deepctl/<cluster>/`` beside the spec by default.

Layout (see docs/architecture.md)::

    .deepctl/<cluster>/            0700
      inventory/hosts.yaml         rendered Kubespray inventory
      inventory/group_vars/...     rendered group_vars
      known_hosts                  SSH host keys of this cluster's hosts
      facts/                       facts gathered by preflight
      runs/<run-id>/               one directory per run
      lock                         the cluster lock
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
    def known_hosts(self) -> Path:
        return self.root / "known_hosts"

    @property
    def facts_dir(self) -> Path:
        return self.root / "facts"

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    @property
    def lock_file(self) -> Path:
        return self.root / "lock"

    @property
    def kubeconfig(self) -> Path:
        """Where Kubespray's ``kubeconfig_localhost`` writes the admin kubeconfig."""
        return self.inventory_dir / "artifacts" / "admin.conf"

    @property
    def credentials_dir(self) -> Path:
        return self.inventory_dir / "credentials"
