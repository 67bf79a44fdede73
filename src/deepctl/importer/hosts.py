"""Import, per host: roles from Kubespray's groups, addresses, SSH settings, labels (pure)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address, ip_address
from typing import Any

from deepctl.importer.listing import InventoryListing
from deepctl.spec.kubespray_map import is_template

ROLE_GROUPS = {"kube_control_plane": "control-plane", "etcd": "etcd", "kube_node": "worker"}
# Groups Kubespray (or Ansible) derives itself, or that only gather others.
DERIVED_GROUPS = frozenset({"all", "ungrouped", "k8s_cluster", "kube-master", "kube-node"})
# Groups Kubespray's cluster.yml reads that a spec cannot express.
UNEXPRESSIBLE_GROUPS = {
    "calico_rr": "Calico route reflectors have no role in a deepctl spec",
    "calico-rr": "Calico route reflectors have no role in a deepctl spec",
    "bastion": "a jump host is spec.ssh.bastion (deepctl checks its host key)",
}
# Groups only recover-control-plane.yml reads: they mark hosts for a recovery deepctl does
# not run, and change nothing a deploy does.
RECOVERY_GROUPS = frozenset({"broken_etcd", "broken_kube_control_plane"})
ADDRESS_VARS = ("ansible_host", "ansible_ssh_host")
USER_VARS = ("ansible_user", "ansible_ssh_user")
PORT_VARS = ("ansible_port", "ansible_ssh_port")
KEY_VARS = ("ansible_ssh_private_key_file", "ansible_private_key_file")
# Read here, so never passed on as raw variables.
HOST_VARIABLES = frozenset(
    {*ADDRESS_VARS, *USER_VARS, *PORT_VARS, *KEY_VARS, "ansible_become", "ip", "access_ip", "ip6",
     "access_ip6", "node_labels", "node_taints"}
)
# Ansible connection settings deepctl cannot carry: its own SSH must match Ansible's.
UNEXPRESSIBLE = {
    "ansible_connection": "deepctl always connects over SSH",
    "ansible_ssh_common_args": "deepctl builds the SSH arguments itself; a jump host is "
                               "spec.ssh.bastion",
    "ansible_ssh_extra_args": "deepctl builds the SSH arguments itself; a jump host is "
                              "spec.ssh.bastion",
    "ansible_password": "deepctl logs in with keys only",
    "ansible_ssh_pass": "deepctl logs in with keys only",
}


@dataclass
class HostImport:
    """The hosts as spec data, the cluster-wide SSH settings, and what could not be carried."""

    hosts: list[dict[str, Any]] = field(default_factory=list)
    ssh: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # groups left out, and why


def _first(variables: dict[str, Any], names: tuple[str, ...]) -> Any:
    return next((variables[n] for n in names if n in variables), None)


def roles_of(listing: InventoryListing, out: HostImport) -> dict[str, list[str]]:
    """Each host's roles; groups Kubespray's deploy ignores are dropped, and said so."""
    problems = out.problems
    roles: dict[str, list[str]] = {host: [] for host in listing.hostvars}
    for group, members in listing.groups.items():
        if group in ROLE_GROUPS:
            for host in members:
                roles[host].append(ROLE_GROUPS[group])
        elif group in DERIVED_GROUPS or not members:
            continue
        elif group in UNEXPRESSIBLE_GROUPS:
            problems.append(f"group {group!r} (hosts {', '.join(members)}): "
                            f"{UNEXPRESSIBLE_GROUPS[group]}")
        elif group in RECOVERY_GROUPS:
            out.dropped.append(f"group {group} ({', '.join(members)}): only Kubespray's "
                               "recover-control-plane.yml reads it; deepctl does not run it")
        else:
            out.dropped.append(f"group {group} ({', '.join(members)}): no Kubespray playbook "
                               "reads it (its variables are kept)")
    for host, found in roles.items():
        if not found:
            problems.append(f"host {host!r} is in none of kube_control_plane, etcd, kube_node")
    order = list(ROLE_GROUPS.values())
    return {h: sorted(set(r), key=order.index) for h, r in roles.items()}


def _common(values: list[Any]) -> Any:
    """The value most hosts share (ties: first seen), or None."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    counts = Counter(repr(v) for v in present)
    best = max(counts.values())
    return next(v for v in present if counts[repr(v)] == best)


def import_hosts(listing: InventoryListing, *, user: str | None,
                 identity_file: str | None) -> HostImport:
    out = HostImport()
    roles = roles_of(listing, out)
    per_host = {h: _connection(h, v, out.problems) for h, v in listing.hostvars.items()}
    # spec.ssh: what most hosts say when every host says something (else the flags or
    # deepctl's defaults); hosts that say otherwise get their own spec.hosts[].ssh.
    shared = {key: _common([c.get(key) for c in per_host.values()])
              if all(key in c for c in per_host.values()) else None
              for key in ("user", "port", "identityFile", "become")}
    shared["user"] = shared["user"] or user
    shared["identityFile"] = shared["identityFile"] or identity_file
    out.ssh = {k: v for k, v in shared.items() if v is not None}
    for host, variables in listing.hostvars.items():
        conn = per_host[host]
        entry: dict[str, Any] = {"name": host, "address": conn.pop("address", host),
                                 "roles": roles[host]}
        entry.update(_addresses(host, variables, out.problems))
        overrides = {k: v for k, v in conn.items() if k != "become" and v != shared.get(k)}
        if conn.get("become") not in (None, shared.get("become")):
            out.problems.append(f"host {host!r}: ansible_become differs from the other hosts; "
                                "deepctl has one spec.ssh.become")
        if overrides:
            entry["ssh"] = overrides
        entry.update(_labels_and_taints(host, variables, out.problems))
        out.hosts.append(entry)
    return out


def _connection(host: str, variables: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    for name, why in UNEXPRESSIBLE.items():
        if name in variables:
            problems.append(f"host {host!r}: {name} cannot be expressed: {why}")
    found = {"address": _first(variables, ADDRESS_VARS), "user": _first(variables, USER_VARS),
             "port": _first(variables, PORT_VARS), "identityFile": _first(variables, KEY_VARS),
             "become": variables.get("ansible_become")}
    for key, value in found.items():
        if is_template(value):
            problems.append(f"host {host!r}: the {key} is an Ansible template ({value}); "
                            "deepctl connects itself and needs it literally")
    return {k: v for k, v in found.items() if v is not None}


def _addresses(host: str, variables: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for ip_name, access_name, key, family in (("ip", "access_ip", "internalAddress", IPv4Address),
                                              ("ip6", "access_ip6", "internalAddress6",
                                               IPv6Address)):
        ip, access = variables.get(ip_name), variables.get(access_name)
        if ip is None and access is None:
            continue
        if ip is None or (access is not None and access != ip):
            problems.append(f"host {host!r}: {access_name} ({access}) differs from {ip_name} "
                            f"({ip}); deepctl sets both to spec.hosts[].{key}")
            continue
        try:
            address = ip_address(str(ip))
        except ValueError:
            address = None
        if not isinstance(address, family):
            problems.append(f"host {host!r}: {ip_name} {ip!r} is not an {family.__name__[:4]} "
                            "address")
            continue
        out[key] = str(ip)
    return out


def _labels_and_taints(host: str, variables: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    labels = variables.get("node_labels")
    if labels is not None:
        if isinstance(labels, dict) and all(isinstance(v, str) for v in labels.values()):
            out["labels"] = {str(k): v for k, v in labels.items()}
        else:
            problems.append(f"host {host!r}: node_labels must map names to strings "
                            f"(got {labels!r})")
    taints = variables.get("node_taints")
    if taints is not None:
        if isinstance(taints, list) and all(isinstance(t, str) for t in taints):
            out["taints"] = list(taints)
        else:
            problems.append(f"host {host!r}: node_taints must be a list of strings")
    return out
