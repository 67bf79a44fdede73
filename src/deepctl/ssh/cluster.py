"""Connections to the hosts of one cluster: through ``spec.ssh.bastion`` when it is set."""

from __future__ import annotations

from pathlib import Path

import paramiko

from deepctl.clusterspec.models import Cluster, Host
from deepctl.errors import SSHError
from deepctl.ssh.connect import (
    ClusterSSHClient,
    ConnectOptions,
    Endpoint,
    NewHostKey,
    bastion_endpoint,
    connect_endpoint,
    host_endpoint,
)
from deepctl.ssh.exec import run_command
from deepctl.state import StateDir


def open_bastion(
    cluster: Cluster, state: StateDir, *, accept_new_hosts: bool = False, timeout: float = 10.0,
    base_dir: Path | None = None, new_keys: list[NewHostKey] | None = None,
    via: ClusterSSHClient | None = None,
) -> ClusterSSHClient | None:
    """A verified connection to ``spec.ssh.bastion``, or ``None`` when there is none.

    ``via``: an open connection the bastion is reached through (the executor); the bastion
    connection owns it and closes it with itself. Without a bastion, ``via`` is returned."""
    endpoint = bastion_endpoint(cluster, base_dir)
    if endpoint is None:
        return via
    options = _options(state, accept_new_hosts, timeout, new_keys)
    try:
        client = connect_endpoint(endpoint, options,
                                  sock=tunnel(via, endpoint, timeout) if via else None)
    except BaseException:
        if via is not None:
            via.close()
        raise
    client.owned_bastion = via
    return client


def open_client(
    cluster: Cluster, host: Host, state: StateDir, accept_new_hosts: bool = False,
    timeout: float = 10.0, *, base_dir: Path | None = None,
    via: paramiko.SSHClient | None = None, new_keys: list[NewHostKey] | None = None,
) -> paramiko.SSHClient:
    """A logged-in, host-key-verified SSH client for ``host``.

    Goes through ``via`` (an open bastion client, shared between hosts) when given, else
    through a bastion connection of its own when ``spec.ssh.bastion`` is set. Relative
    identity files are resolved against ``base_dir`` (the spec's directory). Keys recorded
    on first use are appended to ``new_keys``. Raises :class:`HostKeyError` or
    :class:`SSHError`.
    """
    options = _options(state, accept_new_hosts, timeout, new_keys)
    endpoint = host_endpoint(cluster, host, base_dir)
    owned: ClusterSSHClient | None = None
    if via is None and cluster.spec.ssh.bastion is not None:
        owned = open_bastion(cluster, state, accept_new_hosts=accept_new_hosts,
                             timeout=timeout, base_dir=base_dir, new_keys=options.new_keys)
        via = owned
    try:
        sock = tunnel(via, endpoint, timeout) if via is not None else None
        client = connect_endpoint(endpoint, options, sock=sock)
    except BaseException:
        if owned is not None:
            owned.close()
        raise
    client.owned_bastion = owned
    return client


def _options(
    state: StateDir, accept_new_hosts: bool, timeout: float, new_keys: list[NewHostKey] | None
) -> ConnectOptions:
    options = ConnectOptions(state.known_hosts, accept_new_hosts, timeout)
    if new_keys is not None:
        options.new_keys = new_keys
    return options


def tunnel(bastion: paramiko.SSHClient, endpoint: Endpoint, timeout: float) -> paramiko.Channel:
    """A ``direct-tcpip`` channel of ``bastion`` to ``endpoint``; failures are SSHError."""
    hop = getattr(bastion, "label", "bastion")  # "bastion", or "executor" (executor/way_in.py)
    transport = bastion.get_transport()
    if transport is None or not transport.is_active():
        raise SSHError(f"{endpoint.label}: the {hop} connection is closed", reason="bastion")
    try:
        return transport.open_channel(
            "direct-tcpip", (endpoint.address, endpoint.port), ("127.0.0.1", 0), timeout=timeout
        )
    except (paramiko.SSHException, OSError, EOFError) as exc:
        raise SSHError(
            f"{endpoint.label}: the {hop} could not open a connection to "
            f"{endpoint.address}:{endpoint.port}: {exc or type(exc).__name__}",
            hint=f"check that the host is up and reachable from the {hop}, and that the "
            f"{hop}'s sshd allows TCP forwarding (AllowTcpForwarding)",
            reason="bastion",
        ) from None


def sudo_works(client: paramiko.SSHClient, timeout: float = 10.0) -> tuple[bool, str]:
    """``sudo -n true`` on the host: (works, what sudo said)."""
    rc, out, err = run_command(client, "sudo -n true", timeout)
    return rc == 0, (err or out).strip()
