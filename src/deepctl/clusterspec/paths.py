"""Relative paths in a spec are relative to the spec file, for every tool that reads them.

The SSH keys a spec names are used by paramiko (preflight) in this process and by OpenSSH
(Ansible) in another, whose working directory is not the spec's: a relative ``identityFile``
would name two different files. :func:`anchor_key_paths` makes each one absolute against the
spec's directory once, when the spec is loaded; ``~`` is left for each tool to expand.
"""

from __future__ import annotations

from pathlib import Path

from deepctl.clusterspec.models import Cluster


def anchored(path: Path, base_dir: Path) -> Path:
    """Pure: ``path`` made absolute against ``base_dir`` (``~`` and absolute paths kept)."""
    if path.is_absolute() or str(path).startswith("~"):
        return path
    return base_dir / path


def anchor_key_paths(cluster: Cluster, base_dir: Path) -> Cluster:
    """A copy of ``cluster`` whose relative ``identityFile`` paths are anchored at ``base_dir``."""
    ssh = cluster.spec.ssh
    keys = [ssh.identity_file, ssh.bastion.identity_file if ssh.bastion else None,
            *(h.ssh.identity_file for h in cluster.spec.hosts)]
    if all(k is None or anchored(k, base_dir) == k for k in keys):
        return cluster  # the usual case: nothing to copy
    out = cluster.model_copy(deep=True)
    ssh = out.spec.ssh
    ssh.identity_file = anchored(ssh.identity_file, base_dir)
    if ssh.bastion is not None and ssh.bastion.identity_file is not None:
        ssh.bastion.identity_file = anchored(ssh.bastion.identity_file, base_dir)
    for host in out.spec.hosts:
        if host.ssh.identity_file is not None:
            host.ssh.identity_file = anchored(host.ssh.identity_file, base_dir)
    return out
