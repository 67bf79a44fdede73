"""Hosts that are the same to an inventory check: equivalence classes of a rendered inventory.

Pure. Two hosts are in one class when they are in the same groups (directly or through a
parent group) and their host variables are equal, leaving out the variables that only say
*where* a host is or how its Kubernetes node is labelled (:data:`IDENTITY_VARS`): every host
has its own address, and Kubespray's inventory checks (``validate_inventory``,
``dynamic_groups``) read none of them (tests/unit/test_host_classes.py checks that against the
real tree). A host whose other variables differ from every other host's is a class of its own.
Classes and their members keep the inventory's order, so a class's representative (its first
member) is the host Ansible would reach first among them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Per-host variables deepctl renders that carry no meaning for an inventory check.
IDENTITY_VARS = frozenset(
    {"ansible_host", "ip", "access_ip", "ip6", "access_ip6", "node_labels", "node_taints"}
)


@dataclass(frozen=True)
class HostClass:
    members: tuple[str, ...]

    @property
    def representative(self) -> str:
        return self.members[0]


def host_groups(inventory: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    """Every host of an inventory document (``{"all": {...}}``) -> every group it is in."""
    found: dict[str, set[str]] = {}
    groups: dict[str, Mapping[str, Any]] = {}

    def collect(name: str, node: Mapping[str, Any] | None) -> None:
        node = node or {}
        if name in groups and not node:
            return  # a reference to a group defined elsewhere (children: {kube_node: null})
        groups[name] = node
        for child, body in (node.get("children") or {}).items():
            collect(child, body)

    collect("all", inventory.get("all"))

    def walk(name: str, above: frozenset[str], seen: frozenset[str]) -> None:
        if name in seen:
            return
        here = above | {name}
        node = groups.get(name, {})
        for host in node.get("hosts") or {}:
            found.setdefault(host, set()).update(here)
        for child in node.get("children") or {}:
            walk(child, here, seen | {name})

    walk("all", frozenset(), frozenset())
    return {host: frozenset(names) for host, names in found.items()}


def host_order(inventory: Mapping[str, Any]) -> list[str]:
    """Hosts in the order Ansible first meets them (``all.hosts``, then the groups)."""
    order: dict[str, None] = dict.fromkeys((inventory.get("all") or {}).get("hosts") or {})
    order.update(dict.fromkeys(host_groups(inventory)))
    return list(order)


def host_vars(inventory: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Variables set on each host, wherever in the document the host is listed (merged)."""
    out: dict[str, dict[str, Any]] = {}

    def walk(node: Mapping[str, Any] | None) -> None:
        node = node or {}
        for host, values in (node.get("hosts") or {}).items():
            out.setdefault(host, {}).update(values or {})
        for body in (node.get("children") or {}).values():
            walk(body)

    walk(inventory.get("all"))
    return out


def _key(groups: frozenset[str], values: Mapping[str, Any], ignored: frozenset[str]) -> str:
    kept = {k: v for k, v in values.items() if k not in ignored}
    return json.dumps([sorted(groups), kept], sort_keys=True, default=repr)


def equivalence_classes(
    inventory: Mapping[str, Any], ignored: frozenset[str] = IDENTITY_VARS
) -> list[HostClass]:
    """The inventory's hosts in classes of hosts an inventory check cannot tell apart."""
    groups, values = host_groups(inventory), host_vars(inventory)
    classes: dict[str, list[str]] = {}
    for host in host_order(inventory):
        key = _key(groups.get(host, frozenset()), values.get(host, {}), ignored)
        classes.setdefault(key, []).append(host)
    return [HostClass(tuple(members)) for members in classes.values()]
