"""Open verified paramiko connections to the hosts of a cluster (directly or via a bastion).

Host keys are checked against the cluster's own ``STATE/known_hosts`` only, by
:class:`ClusterHostKeyPolicy`: an unknown key is a :class:`HostKeyError` that shows its
SHA256 fingerprint, unless ``accept_new_hosts`` is set, in which case the key is recorded
(trust on first use); a changed key is always an error. Nothing here runs the ``ssh``
binary: a bastion is crossed with a ``direct-tcpip`` channel of the bastion's transport.
"""

from __future__ import annotations

import logging
import os
import shlex
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paramiko

from deepctl.clusterspec.models import Cluster, Host
from deepctl.errors import HostKeyError, SSHError
from deepctl.ssh import known_hosts
from deepctl.ssh.keyfile import agent_key, inspect_key, judge_key

# paramiko's transport threads log failures (with tracebacks) through the "paramiko"
# logger; with no handler Python prints them on stderr. The failure reaches the caller as
# an exception, which becomes one message: keep the logger quiet.
logging.getLogger("paramiko").addHandler(logging.NullHandler())
logging.getLogger("paramiko").propagate = False


@dataclass(frozen=True)
class Endpoint:
    """Where and as whom to log in: ``label`` is the host name (or ``bastion``)."""

    label: str
    address: str
    port: int
    user: str
    identity_file: Path

    @property
    def key_name(self) -> str:
        return known_hosts.host_key_name(self.address, self.port)


@dataclass(frozen=True)
class NewHostKey:
    """A host key recorded on first use (``--accept-new-hosts``)."""

    label: str
    name: str
    key_type: str
    fingerprint: str


@dataclass
class ConnectOptions:
    known_hosts_file: Path
    accept_new_hosts: bool = False
    timeout: float = 10.0
    new_keys: list[NewHostKey] = field(default_factory=list)


def _resolve(path: Path, base_dir: Path | None) -> Path:
    path = path.expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return path


def host_endpoint(cluster: Cluster, host: Host, base_dir: Path | None = None) -> Endpoint:
    """``host.ssh`` overrides, falling back to ``spec.ssh`` (relative keys: ``base_dir``)."""
    ssh = cluster.spec.ssh
    key = host.ssh.identity_file or ssh.identity_file
    return Endpoint(
        label=host.name,
        address=host.address,
        port=host.ssh.port or ssh.port,
        user=host.ssh.user or ssh.user,
        identity_file=_resolve(key, base_dir),
    )


def bastion_endpoint(cluster: Cluster, base_dir: Path | None = None) -> Endpoint | None:
    ssh = cluster.spec.ssh
    bastion = ssh.bastion
    if bastion is None:
        return None
    return Endpoint(
        label="bastion",
        address=bastion.address,
        port=bastion.port,
        user=bastion.user or ssh.user,
        identity_file=_resolve(bastion.identity_file or ssh.identity_file, base_dir),
    )


class ClusterHostKeyPolicy(paramiko.MissingHostKeyPolicy):
    """Unknown key: error with its fingerprint, or record it when new hosts are accepted."""

    def __init__(self, endpoint: Endpoint, options: ConnectOptions) -> None:
        self.endpoint = endpoint
        self.options = options

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        path = self.options.known_hosts_file
        fp = known_hosts.fingerprint(key)
        if not self.options.accept_new_hosts:
            raise HostKeyError(
                f"{self.endpoint.label}: unknown SSH host key for {hostname}: "
                f"{key.get_name()} {fp}",
                hint=f"compare it with `ssh-keygen -lf /etc/ssh/ssh_host_{_short(key)}_key.pub` "
                f"on the host, then rerun with --accept-new-hosts to record it in {path}",
            )
        known_hosts.record(path, hostname, key)
        client.get_host_keys().add(hostname, key.get_name(), key)
        self.options.new_keys.append(NewHostKey(self.endpoint.label, hostname, key.get_name(), fp))


def _short(key: paramiko.PKey) -> str:
    name = key.get_name()
    if "ed25519" in name:
        return "ed25519"
    if "ecdsa" in name:
        return "ecdsa"
    return "rsa"


class ClusterSSHClient(paramiko.SSHClient):
    """An SSH client that also closes the bastion connection it owns."""

    owned_bastion: paramiko.SSHClient | None = None
    agent: paramiko.Agent | None = None  # signs with a passphrase-protected key
    label: str = "bastion"  # what messages call it when connections go through it

    def close(self) -> None:
        super().close()
        if self.agent is not None:
            self.agent.close()
            self.agent = None
        if self.owned_bastion is not None:
            self.owned_bastion.close()
            self.owned_bastion = None


def connect_endpoint(
    endpoint: Endpoint, options: ConnectOptions, sock: paramiko.Channel | None = None
) -> ClusterSSHClient:
    """Log in to one endpoint; every failure becomes :class:`HostKeyError` or :class:`SSHError`."""
    auth, agent = identity(endpoint)
    client = ClusterSSHClient()
    client.agent = agent
    client.label = endpoint.label
    if options.known_hosts_file.exists():
        client.get_host_keys().load(str(options.known_hosts_file))
    client.set_missing_host_key_policy(ClusterHostKeyPolicy(endpoint, options))
    try:
        client.connect(
            endpoint.address, port=endpoint.port, username=endpoint.user,
            **auth, look_for_keys=False, allow_agent=False,
            timeout=options.timeout, banner_timeout=options.timeout,
            auth_timeout=options.timeout, channel_timeout=options.timeout, sock=sock,
        )
    except BaseException as exc:
        mute = _no_banner(client, exc)
        client.close()
        if mute:
            raise SSHError(
                f"{endpoint.label}: {endpoint.user}@{endpoint.address}:{endpoint.port}: no SSH "
                f"banner within {options.timeout:g} s (the port accepts connections but no "
                "sshd answers)", reason="timeout",
                hint="check that sshd runs on that port and is not overloaded (MaxStartups), "
                "or raise --timeout") from None
        raise _translate(endpoint, options, exc) from None
    return client


def identity(endpoint: Endpoint) -> tuple[dict[str, Any], paramiko.Agent | None]:
    """How paramiko logs in with the endpoint's key: the file, or its copy in ssh-agent.

    The same key OpenSSH uses for Ansible (``IdentityFile`` with ``IdentitiesOnly``): a key
    protected by a passphrase is taken from ssh-agent, never asked for.
    """
    facts = inspect_key(endpoint.identity_file)
    verdict = judge_key(facts, uid=os.getuid(), agent=bool(os.environ.get("SSH_AUTH_SOCK")))
    if verdict.problem is not None:
        raise SSHError(f"{endpoint.label}: {verdict.problem}", hint=verdict.fix, reason="auth")
    if not verdict.encrypted:
        return {"key_filename": str(endpoint.identity_file)}, None
    agent, key = agent_key(facts)
    return {"pkey": key}, agent


def _no_banner(client: paramiko.SSHClient, exc: BaseException) -> bool:
    """Did the TCP connection open, then no SSH banner come (a mute or wedged listener)?"""
    transport = client.get_transport()
    return (isinstance(exc, paramiko.SSHException | EOFError | OSError)
            and transport is not None and not transport.remote_version)


def _translate(endpoint: Endpoint, options: ConnectOptions, exc: BaseException) -> BaseException:
    where = f"{endpoint.label}: {endpoint.user}@{endpoint.address}:{endpoint.port}"
    if isinstance(exc, HostKeyError | SSHError):
        return exc
    if isinstance(exc, paramiko.BadHostKeyException):
        return HostKeyError(
            f"{endpoint.label}: the SSH host key of {endpoint.key_name} has CHANGED: "
            f"known {known_hosts.fingerprint(exc.expected_key)}, "
            f"offered {known_hosts.fingerprint(exc.key)}",
            hint="if the host was reinstalled, remove its old entry with `ssh-keygen -R "
            f"{shlex.quote(endpoint.key_name)} -f {shlex.quote(str(options.known_hosts_file))}` "
            "and rerun with "
            "--accept-new-hosts; otherwise someone may be intercepting the connection",
        )
    if isinstance(exc, paramiko.AuthenticationException):
        return SSHError(
            f"{where}: authentication failed with key {endpoint.identity_file}: {exc}",
            hint="check the user and that the public key is in the user's authorized_keys",
            reason="auth",
        )
    if isinstance(exc, socket.timeout | TimeoutError):
        return SSHError(f"{where}: timed out after {options.timeout:g} s", reason="timeout",
                        hint="check that the host is up and port is open (firewall), or "
                        "raise --timeout")
    if isinstance(exc, paramiko.SSHException | OSError | EOFError):
        return SSHError(f"{where}: cannot connect: {_reason(exc)}",
                        hint="check that the host is up, sshd runs and the address/port are right")
    return exc


def _reason(exc: BaseException) -> str:
    if isinstance(exc, paramiko.ssh_exception.NoValidConnectionsError):
        return "; ".join(sorted({getattr(e, "strerror", None) or str(e) for e in exc.errors.values()}))
    return str(exc) or type(exc).__name__
