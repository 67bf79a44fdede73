"""Who each host is, as far as deepctl knows without connecting: its SSH host keys in
``STATE/known_hosts`` and the machine-id preflight last gathered (``STATE/facts/``).

The ``preflight`` stage saves this after it passes (``STATE/preflight-hosts.json``); a later
deploy runs preflight again when it differs (a host reinstalled, its key accepted anew, a
cloned machine-id fixed), even when the spec did not change. The comparison is pure; reading
and writing the files are the thin functions at the end.
"""

from __future__ import annotations

from typing import Any

from deepctl.clusterspec.models import Cluster
from deepctl.preflight.collect import load_facts
from deepctl.ssh.known_hosts import host_key_name
from deepctl.state import StateDir
from deepctl.state.documents import read_document, write_document

Identity = dict[str, dict[str, Any]]  # host -> {"hostKeys": [...], "machineId": ...}


def host_keys(known_hosts: str, name: str) -> list[str]:
    """The ``TYPE BASE64`` keys recorded for ``name`` (plain OpenSSH lines), sorted."""
    keys = []
    for line in known_hosts.splitlines():
        fields = line.split()
        if len(fields) >= 3 and not line.startswith("#") and name in fields[0].split(","):
            keys.append(f"{fields[1]} {fields[2]}")
    return sorted(keys)


def identity_of(cluster: Cluster, known_hosts: str, machine_ids: dict[str, str | None]
                ) -> Identity:
    """Every host's keys and machine-id (pure)."""
    out: Identity = {}
    for host in cluster.spec.hosts:
        port = host.ssh.port or cluster.spec.ssh.port
        out[host.name] = {"hostKeys": host_keys(known_hosts, host_key_name(host.address, port)),
                          "machineId": machine_ids.get(host.name) or None}
    return out


def changed_hosts(before: Identity | None, now: Identity) -> list[str]:
    """``cp1 (host key)``, ``wk1 (machine-id)``: hosts of both that changed (pure)."""
    if before is None:
        return []  # nothing saved yet (or by an older deepctl): no baseline
    out = []
    for name, current in now.items():
        old = before.get(name)
        if old is None:
            continue  # a host new to the spec: the spec's change reruns preflight
        what = [label for key, label in (("hostKeys", "host key"), ("machineId", "machine-id"))
                if old.get(key) != current.get(key)]
        if what:
            out.append(f"{name} ({', '.join(what)})")
    return out


def current_identity(cluster: Cluster, state: StateDir) -> Identity:
    try:
        known = state.known_hosts.read_text(encoding="utf-8")
    except OSError:
        known = ""
    ids = {}
    for host in cluster.spec.hosts:
        facts = load_facts(state, host.name)
        ids[host.name] = facts.machine_id if facts is not None else None
    return identity_of(cluster, known, ids)


def save_identity(state: StateDir, identity: Identity) -> None:
    write_document(state.preflight_identity_file, {"hosts": identity})


def load_identity(state: StateDir) -> Identity | None:
    """What preflight last checked; None when it never passed. A corrupt file is an error
    naming it (state.documents), never a silent "nothing changed"."""
    data = read_document(state.preflight_identity_file,
                         f"remove {state.preflight_identity_file}: the next deploy checks the "
                         "hosts again")
    hosts = data.get("hosts") if data is not None else None
    return hosts if isinstance(hosts, dict) else None
