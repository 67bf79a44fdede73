"""Import, per host: roles from Kubespray's groups, addresses, SSH settings, labels (pure)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address, ip_address
from typing import Any

from deepctl.clusterspec.kubespray_map import is_template
from deepctl.clusterspec.models import SSHConfig
from deepctl.importer.listing import InventoryListing, UnsafeText
from deepctl.names import summary

ROLE_GROUPS = {"kube_control_plane": "control-plane", "etcd": "etcd", "kube_node": "worker"}
# Groups Kubespray (or Ansible) derives itself, or that only gather others.
DERIVED_GROUPS = frozenset({"all", "ungrouped", "k8s_cluster", "kube-master", "kube-node"})
# Groups Kubespray's cluster.yml reads that a spec cannot express.
UNEXPRESSIBLE_GROUPS = {
    "calico_rr": "Calico route reflectors have no role in a deepctl spec",
    "calico-rr": "Calico route reflectors have no role in a deepctl spec",
}
# Kubespray's jump host: its one host becomes spec.ssh.bastion (deepctl checks its host key).
BASTION_GROUP = "bastion"
# Groups only recover-control-plane.yml reads: they mark hosts for a recovery deepctl does
# not run, and change nothing a deploy does.
RECOVERY_GROUPS = frozenset({"broken_etcd", "broken_kube_control_plane"})
# Each connection setting's two spellings, in the order Ansible's ssh plugin lists them in its
# option's ``vars:``: when a host has both, the last one is the one Ansible uses
# (tests/unit/test_import_refusals.py checks this against the plugin itself).
ADDRESS_VARS = ("ansible_host", "ansible_ssh_host")
USER_VARS = ("ansible_user", "ansible_ssh_user")
PORT_VARS = ("ansible_port", "ansible_ssh_port")
KEY_VARS = ("ansible_private_key_file", "ansible_ssh_private_key_file")
# Read here, so never passed on as raw variables.
HOST_VARIABLES = frozenset(
    {*ADDRESS_VARS, *USER_VARS, *PORT_VARS, *KEY_VARS, "ansible_become", "ip", "access_ip", "ip6",
     "access_ip6", "node_labels", "node_taints"}
)
@dataclass
class HostImport:
    """The hosts as spec data, the cluster-wide SSH settings, and what could not be carried."""

    hosts: list[dict[str, Any]] = field(default_factory=list)
    ssh: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # groups left out, and why
    defaults: list[str] = field(default_factory=list)  # deepctl's defaults the spec now uses
    default_fields: list[str] = field(default_factory=list)  # spec.ssh keys given defaults
    bastion: dict[str, Any] = field(default_factory=dict)  # spec.ssh.bastion


def _chosen(host: str, variables: dict[str, Any], names: tuple[str, str],
            problems: list[str]) -> Any:
    """The value Ansible uses of a setting with two spellings; both with different values
    are refused, naming both (Kubespray reads ansible_host itself, Ansible connects to the
    other)."""
    given = [n for n in names if n in variables]
    if len(given) == 2 and variables[given[0]] != variables[given[1]]:
        problems.append(f"host {host!r}: {given[0]} ({variables[given[0]]}) and {given[1]} "
                        f"({variables[given[1]]}) differ; Ansible uses {given[1]}: keep one")
    return variables[given[-1]] if given else None


def roles_of(listing: InventoryListing, out: HostImport) -> dict[str, list[str]]:
    """Each host's roles; groups Kubespray's deploy ignores are dropped, and said so."""
    problems = out.problems
    roles: dict[str, list[str]] = {host: [] for host in listing.hostvars}
    for group, members in listing.groups.items():
        if group == BASTION_GROUP:
            continue  # bastion_of
        if group in ROLE_GROUPS:
            for host in members:
                roles[host].append(ROLE_GROUPS[group])
        elif group in DERIVED_GROUPS or not members:
            continue
        elif group in UNEXPRESSIBLE_GROUPS:
            problems.append(f"group {group!r} (hosts {summary(members)}): "
                            f"{UNEXPRESSIBLE_GROUPS[group]}")
        elif group in RECOVERY_GROUPS:
            out.dropped.append(f"group {group} ({summary(members)}): only Kubespray's "
                               "recover-control-plane.yml reads it; deepctl does not run it")
        else:
            out.dropped.append(f"group {group} ({summary(members)}): no Kubespray playbook "
                               "reads it (its variables are kept)")
    without = [host for host, found in roles.items() if not found]
    if without:
        problems.append(f"hosts {summary(without)} are in none of kube_control_plane, etcd, "
                        "kube_node")
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


def not_an_inventory(listing: InventoryListing) -> str | None:
    """Why the listing is no Kubespray inventory at all (no hosts; hosts in none of its
    groups, as ``/etc/passwd`` read as INI), or None."""
    if not listing.hostvars:
        return "the inventory has no hosts"
    if not any(listing.groups.get(group) for group in (*ROLE_GROUPS, "kube-master", "kube-node")):
        hosts = list(listing.hostvars)
        return (f"not an inventory of a Kubespray cluster: none of the {len(hosts)} hosts "
                "Ansible reads in it is in a group kube_control_plane, etcd or kube_node")
    return None


def split_bastion(listing: InventoryListing, out: HostImport) -> InventoryListing:
    """The listing without Kubespray's ``bastion`` host, which becomes ``out.bastion``."""
    members = listing.groups.get(BASTION_GROUP, [])
    if not members:
        return listing
    if len(members) > 1:
        out.problems.append(f"group 'bastion' has {len(members)} hosts ({summary(members)}); "
                            "spec.ssh.bastion is one jump host")
    host = members[0]
    if any(host in listing.groups.get(group, []) for group in ROLE_GROUPS):
        out.problems.append(f"host {host!r} is the bastion and a cluster node; a jump host "
                            "(spec.ssh.bastion) is not part of the cluster")
    conn = _connection(host, listing.hostvars[host], out.problems)
    out.bastion = {"address": conn.get("address", host),
                   **{k: conn[k] for k in ("user", "port", "identityFile") if k in conn}}
    gone = set(members)
    return InventoryListing(
        listing.source, {h: v for h, v in listing.hostvars.items() if h not in gone},
        {g: [m for m in hosts if m not in gone] for g, hosts in listing.groups.items()
         if g != BASTION_GROUP})


def import_hosts(listing: InventoryListing, *, user: str | None,
                 identity_file: str | None, out: HostImport | None = None) -> HostImport:
    out = out or HostImport()
    roles = roles_of(listing, out)
    per_host = {h: _connection(h, v, out.problems) for h, v in listing.hostvars.items()}
    # spec.ssh: what most hosts say when every host says something (else the flags or
    # deepctl's defaults); hosts that say otherwise get their own spec.hosts[].ssh.
    shared = {key: _common([c.get(key) for c in per_host.values()])
              if all(key in c for c in per_host.values()) else None
              for key in ("user", "port", "identityFile", "become")}
    shared["user"] = shared["user"] or user
    shared["identityFile"] = shared["identityFile"] or identity_file
    _defaults(per_host, shared, out)
    out.ssh = {k: v for k, v in shared.items() if v is not None}
    if out.bastion:
        out.ssh["bastion"] = out.bastion
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


DEFAULT_WHY = {
    "user": ("--user", "ansible_user", "Ansible would log in as the user running it"),
    "identityFile": ("--identity-file", "ansible_ssh_private_key_file",
                     "Ansible would offer ssh's own default keys"),
}


def _defaults(per_host: dict[str, dict[str, Any]], shared: dict[str, Any], out: HostImport) -> None:
    """Where the inventory names no login user or key (and no flag gave one): deepctl's
    default goes into the spec, said so."""
    for key, (flag, variable, ansible) in DEFAULT_WHY.items():
        if shared[key] is not None:
            continue
        missing = [host for host, conn in per_host.items() if key not in conn]
        if not missing:
            continue
        default = str(SSHConfig.model_fields["identity_file" if key == "identityFile"
                                             else key].default)
        shared[key] = default
        out.default_fields.append(key)
        who = f"host {missing[0]} has" if len(missing) == 1 else f"hosts {summary(missing)} have"
        out.defaults.append(f"{who} no {variable}: the spec uses "
                            f"deepctl's default spec.ssh.{key} {default} ({ansible}); "
                            f"pass {flag} to choose")


def _connection(host: str, variables: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    found = {"address": _chosen(host, variables, ADDRESS_VARS, problems),
             "user": _chosen(host, variables, USER_VARS, problems),
             "port": _chosen(host, variables, PORT_VARS, problems),
             "identityFile": _chosen(host, variables, KEY_VARS, problems),
             "become": variables.get("ansible_become")}
    for key, value in found.items():
        if is_template(value) and not isinstance(value, UnsafeText):
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
