"""How deepctl's own SSH connections reach the cluster hosts: from where Ansible does.

With an executor, Ansible logs in to the hosts from the executor, and the hosts may accept SSH
only from there. deepctl's own connections (preflight's host checks, verify's clean-up after
a cancel) then go the same way: a verified login to the (primary) executor, through its own
jump host if it has one, and from it a ``direct-tcpip`` channel to each host, whose key is
checked against the cluster's known_hosts as always. ``spec.ssh.bastion`` still applies beyond
the executor, as it does for Ansible there. Without an executor: ``spec.ssh.bastion``, or
directly.
"""

from __future__ import annotations

from pathlib import Path

from deepctl.clusterspec.models import Cluster
from deepctl.executor.check import login
from deepctl.executor.target import executor_target
from deepctl.ssh.cluster import open_bastion
from deepctl.ssh.connect import ClusterSSHClient, ConnectOptions, NewHostKey
from deepctl.state import StateDir


def open_way_in(
    cluster: Cluster, state: StateDir, *, accept_new_hosts: bool = False, timeout: float = 10.0,
    base_dir: Path | None = None, new_keys: list[NewHostKey] | None = None,
) -> ClusterSSHClient | None:
    """The connection every host connection goes through, or ``None`` for direct logins.
    Close it after the host connections; it closes every hop it opened."""
    keys = new_keys if new_keys is not None else []
    target = executor_target(cluster, state.known_hosts, base_dir)
    executor = None
    if target is not None:
        executor = login(target, ConnectOptions(state.known_hosts, accept_new_hosts, timeout,
                                                keys))
    return open_bastion(cluster, state, accept_new_hosts=accept_new_hosts, timeout=timeout,
                        base_dir=base_dir, new_keys=keys, via=executor)
