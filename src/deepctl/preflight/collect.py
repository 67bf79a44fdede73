"""Gathering facts: connect to every host (bounded concurrency), run the facts script once
per host, save what was found under ``STATE/facts/<host>.json`` (0600). The only I/O of
preflight; everything it returns is judged by the pure checks.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import paramiko

from deepctl.clusterspec.models import Cluster, Host
from deepctl.errors import DeepctlError, HostKeyError
from deepctl.executor.way_in import open_way_in
from deepctl.fsutil import atomic_write_json, ensure_private_dir
from deepctl.preflight import offline, script
from deepctl.preflight.checks import effective_internal_address
from deepctl.preflight.model import Finding, HostFacts, error
from deepctl.preflight.storage import devices_to_check
from deepctl.ssh import NewHostKey, open_client, run_command
from deepctl.ssh.connect import host_endpoint
from deepctl.state import StateDir

T = TypeVar("T")
R = TypeVar("R")
SCRIPT_TIMEOUT_FACTOR = 3  # the facts script may take 3x --timeout (nvidia-smi can be slow)


@dataclass
class Gathered:
    """Per host: facts, or the finding that explains why there are none."""

    facts: dict[str, HostFacts] = field(default_factory=dict)
    failures: dict[str, Finding] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    new_keys: list[NewHostKey] = field(default_factory=list)


@dataclass
class GatherOptions:
    accept_new_hosts: bool = False
    concurrency: int = 32
    timeout: float = 10.0
    base_dir: Path | None = None


def ssh_failure(host: str, exc: DeepctlError) -> Finding:
    check = "ssh.host-key" if isinstance(exc, HostKeyError) else "ssh.connect"
    return error(host, "ssh", check, exc.message, exc.hint or "check the host's SSH settings")


def pool_map(fn: Callable[[T], R], items: Iterable[T], workers: int) -> list[R]:
    items = list(items)
    if not items:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(items)))) as pool:
        return list(pool.map(fn, items))


def pick_peers(cluster: Cluster, connected: list[Host]) -> dict[str, tuple[str, int] | None]:
    """Each connected host probes the next connected host (a ring, spec order)."""
    peers: dict[str, tuple[str, int] | None] = {}
    for i, host in enumerate(connected):
        peer = connected[(i + 1) % len(connected)] if len(connected) > 1 else None
        address = effective_internal_address(peer) if peer else None
        if peer is None or address is None:
            peers[host.name] = None
        else:
            peers[host.name] = (address, host_endpoint(cluster, peer).port)
    return peers


def gather(cluster: Cluster, hosts: list[Host], state: StateDir, opts: GatherOptions) -> Gathered:
    out = Gathered()
    started = {h.name: time.monotonic() for h in hosts}
    try:
        bastion = open_way_in(cluster, state, accept_new_hosts=opts.accept_new_hosts,
                              timeout=opts.timeout, base_dir=opts.base_dir,
                              new_keys=out.new_keys)
    except DeepctlError as exc:
        for host in hosts:
            failure = ssh_failure(host.name, exc)
            out.failures[host.name] = replace(failure, message=f"via the {failure.message}")
        return out
    clients: dict[str, paramiko.SSHClient] = {}
    try:
        clients.update(_connect_all(cluster, hosts, state, opts, bastion, out))
        connected = [h for h in hosts if h.name in clients]
        peers = pick_peers(cluster, connected)

        def one(host: Host) -> None:
            _gather_host(cluster, host, clients[host.name], peers[host.name], opts, out)
            out.seconds[host.name] = time.monotonic() - started[host.name]

        pool_map(one, connected, opts.concurrency)
    finally:
        for client in clients.values():
            client.close()
        if bastion is not None:
            bastion.close()
    for name, begun in started.items():
        out.seconds.setdefault(name, time.monotonic() - begun)
    return out


def _connect_all(
    cluster: Cluster, hosts: list[Host], state: StateDir, opts: GatherOptions,
    bastion: paramiko.SSHClient | None, out: Gathered,
) -> dict[str, paramiko.SSHClient]:
    def connect(host: Host) -> tuple[str, paramiko.SSHClient | None]:
        try:
            client = open_client(cluster, host, state, opts.accept_new_hosts, opts.timeout,
                                 base_dir=opts.base_dir, via=bastion, new_keys=out.new_keys)
        except DeepctlError as exc:
            out.failures[host.name] = ssh_failure(host.name, exc)
            return host.name, None
        return host.name, client

    return {name: c for name, c in pool_map(connect, hosts, opts.concurrency) if c is not None}


def _gather_host(
    cluster: Cluster, host: Host, client: paramiko.SSHClient,
    peer: tuple[str, int] | None, opts: GatherOptions, out: Gathered,
) -> None:
    internal = effective_internal_address(host) or ""
    text = script.build_script(internal, peer, cluster.spec.ssh.become,
                               devices=devices_to_check(cluster, host),
                               extra=offline.probe_script(cluster, offline.read_ca(cluster)))
    before = time.time()
    try:
        rc, stdout, stderr = run_command(client, "sh -s", opts.timeout * SCRIPT_TIMEOUT_FACTOR,
                                         stdin=text)
    except DeepctlError as exc:
        out.failures[host.name] = error(host.name, "ssh", "ssh.facts",
                                        f"gathering facts failed: {exc.message}",
                                        "check that the host is not overloaded; raise --timeout")
        return
    after = time.time()
    if "@@end" not in stdout:
        out.failures[host.name] = error(
            host.name, "ssh", "ssh.facts",
            f"the facts script did not finish (exit {rc}): {stderr.strip()[:200]}",
            "the host needs a POSIX sh; run with --debug and report the output")
        return
    out.facts[host.name] = script.parse_output(stdout, internal_address=internal, peer=peer,
                                               local_time=(before + after) / 2)


def save_facts(state: StateDir, host: Host, facts: HostFacts) -> Path:
    """``STATE/facts/<host>.json`` (0600): :meth:`HostFacts.to_json` plus ``host``,
    ``address`` and ``gathered_at``."""
    ensure_private_dir(state.facts_dir)
    path = state.facts_file(host.name)
    atomic_write_json(path, {
        **facts.to_json(),
        "host": host.name,
        "address": host.address,
        "gathered_at": datetime.now(UTC).isoformat(timespec="seconds"),
    })
    return path


def load_facts(state: StateDir, host_name: str) -> HostFacts | None:
    """The facts preflight saved for ``host_name`` last time, or ``None``."""
    path = state.facts_file(host_name)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return HostFacts.from_json(data)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
