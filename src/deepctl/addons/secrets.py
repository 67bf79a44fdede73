"""Secrets deepctl generates for addons, kept 0600 in the state directory.

Each secret is stored as the Kubernetes Secret manifest itself (``secrets/<name>.yaml``,
directory 0700, file 0600), generated once and reused on every run. The addon playbook feeds
that file to ``kubectl apply -f -`` on stdin with ``no_log``; the secret value is never in a
values file, on a command line or in a log. Values files only name the Secret.
"""

from __future__ import annotations

import secrets
import shlex
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from deepctl.addons.values import GRAFANA_ADMIN_SECRET
from deepctl.clusterspec.models import Cluster
from deepctl.errors import StateError
from deepctl.fsutil import atomic_write, ensure_private_dir
from deepctl.state import StateDir

SECRETS_DIR = "secrets"
GRAFANA_ADMIN_USER = "admin"


@dataclass(frozen=True)
class ManagedSecret:
    """A Secret manifest file in the state directory, applied to ``namespace``."""

    name: str
    namespace: str
    path: Path


def secrets_dir(state: StateDir) -> Path:
    return state.secrets_dir


def secret_manifest(name: str, namespace: str, data: dict[str, str]) -> str:
    """A Secret manifest (``stringData``) as YAML text (pure)."""
    doc: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/managed-by": "deepctl"},
        },
        "stringData": data,
    }
    return yaml.safe_dump(doc, sort_keys=False)


def _check_private(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise StateError(
            f"{path}: secret file is readable by others (mode {mode:04o})",
            hint=f"chmod 600 {shlex.quote(str(path))} (and consider rotating the secret)",
        )


def ensure_secret(state: StateDir, name: str, namespace: str, make: dict[str, str]) -> ManagedSecret:
    """The Secret ``name`` in the state dir: created 0600 with ``make`` if absent, else kept."""
    directory = ensure_private_dir(secrets_dir(state))
    path = directory / f"{namespace}.{name}.yaml"
    if path.exists():
        _check_private(path)
    else:
        atomic_write(path, secret_manifest(name, namespace, make), mode=0o600)
    return ManagedSecret(name, namespace, path)


def grafana_admin_secret(state: StateDir, namespace: str = "monitoring") -> ManagedSecret:
    """Grafana's admin credentials: a random password generated on first use, then kept."""
    return ensure_secret(
        state,
        GRAFANA_ADMIN_SECRET,
        namespace,
        {"admin-user": GRAFANA_ADMIN_USER, "admin-password": secrets.token_urlsafe(24)},
    )




def addon_secrets(cluster: Cluster, addon: str, state: StateDir) -> list[ManagedSecret]:
    """The secrets ``addon`` needs on the cluster (created in the state dir when missing)."""
    if addon == "monitoring" and cluster.spec.addons.monitoring.enabled:
        return [grafana_admin_secret(state)]
    return []


