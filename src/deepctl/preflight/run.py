"""The preflight run: connect to every host, gather, save and judge its facts."""

from __future__ import annotations

import time

from deepctl.clusterspec.models import Host
from deepctl.errors import UsageError
from deepctl.names import summary
from deepctl.preflight.cluster_checks import evaluate
from deepctl.preflight.collect import GatherOptions, gather, save_facts
from deepctl.preflight.model import Finding, HostResult, PreflightReport, ok
from deepctl.ssh.connect import NewHostKey, host_endpoint
from deepctl.ssh.spec_keys import require_usable_keys
from deepctl.workspace import Workspace


def run_preflight(
    ws: Workspace, *, accept_new_hosts: bool = False, concurrency: int = 32,
    timeout: float = 10.0, only_hosts: list[str] | None = None,
) -> PreflightReport:
    """Check the hosts of ``ws`` (all, or ``only_hosts``) and return the report."""
    if concurrency < 1:
        raise UsageError(f"--concurrency must be at least 1, not {concurrency}")
    if timeout <= 0:
        raise UsageError(f"--timeout must be positive, not {timeout:g}")
    begun = time.monotonic()
    cluster = ws.cluster
    hosts = _select(ws, only_hosts)
    require_usable_keys(ws.spec)  # a bad key: one message, not one per host
    opts = GatherOptions(accept_new_hosts, concurrency, timeout, ws.spec.directory)
    found = gather(cluster, hosts, ws.state, opts)
    findings = evaluate(cluster, found.facts)
    new_keys = {key.label: key for key in found.new_keys}
    results = []
    for host in hosts:
        result = HostResult(host.name, host.address, seconds=found.seconds.get(host.name, 0.0))
        failure = found.failures.get(host.name)
        if failure is not None:
            result.findings = [failure]
        else:
            result.facts = found.facts[host.name]
            result.facts_file = str(save_facts(ws.state, host, result.facts))
            result.findings = [_connected(ws, host, new_keys), *findings.get(host.name, [])]
        results.append(result)
    return PreflightReport(
        cluster=cluster.name,
        hosts=results,
        new_host_keys=[
            {"host": k.label, "name": k.name, "type": k.key_type, "fingerprint": k.fingerprint}
            for k in sorted(found.new_keys, key=lambda k: _order(hosts, k.label))
        ],
        seconds=time.monotonic() - begun,
    )


def _order(hosts: list[Host], name: str) -> int:
    return next((i for i, h in enumerate(hosts) if h.name == name), -1)


def _select(ws: Workspace, only_hosts: list[str] | None) -> list[Host]:
    hosts = ws.cluster.spec.hosts
    if not only_hosts:
        return list(hosts)
    unknown = [name for name in only_hosts if ws.cluster.host(name) is None]
    if unknown:
        raise UsageError(
            f"unknown host(s): {', '.join(unknown)}",
            hint=f"hosts in {ws.spec.path.name}: {summary([h.name for h in hosts])}",
        )
    return [h for h in hosts if h.name in only_hosts]


def _connected(ws: Workspace, host: Host, new_keys: dict[str, NewHostKey]) -> Finding:
    endpoint = host_endpoint(ws.cluster, host, ws.spec.directory)
    text = f"connected as {endpoint.user}@{endpoint.address}:{endpoint.port}"
    key = new_keys.get(host.name)
    if key is not None:
        text += f"; new host key {key.fingerprint} recorded (trust on first use)"
    return ok(host.name, "ssh", "ssh.connect", text)
