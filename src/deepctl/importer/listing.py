"""Read a Kubespray inventory the way Ansible does: ``ansible-inventory --list`` (the I/O part).

The group ``k8s_cluster`` is declared as Kubespray's dynamic_groups role builds it at run time
(kube_control_plane, kube_node, calico_rr), so that ``group_vars/k8s_cluster/`` counts; the old
names kube-master, kube-node and calico-rr count as the new ones, as they do there.

Ansible itself merges hosts files (YAML or INI), ``group_vars/`` and ``host_vars/`` with its
own precedence, so the importer sees exactly what Kubespray would, and never parses INI by hand.
Values come back untemplated (``"{{ cluster_name }}"`` stays a template).
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deepctl.ansible.inventory_listing import ansible_inventory_list
from deepctl.errors import UsageError
from deepctl.user_input import MAX_SPEC_BYTES, is_stdin, read_input

MAX_INVENTORY_BYTES = MAX_SPEC_BYTES  # a hosts file is no larger than the spec made from it
HOSTS_FILES = ("hosts.yaml", "hosts.yml", "inventory.ini", "hosts.ini", "hosts")
# Kubespray builds these groups at run time (role dynamic_groups): k8s_cluster, and the
# current names of the old ones. Declared beside the user's inventory, group_vars/k8s_cluster
# applies even to inventories that never declare the group, as it does in Kubespray.
K8S_CLUSTER_SOURCE = """\
all:
  children:
    kube_control_plane:
      children:
        kube-master: {}
    kube_node:
      children:
        kube-node: {}
    calico_rr:
      children:
        calico-rr: {}
    k8s_cluster:
      children:
        kube_control_plane: {}
        kube_node: {}
        calico_rr: {}
"""


# How ``ansible-inventory --list`` writes a value tagged ``!unsafe`` and a ``!vault`` one.
UNSAFE_KEY = "__ansible_unsafe"
VAULT_KEY = "__ansible_vault"


class UnsafeText(str):
    """A value the inventory tagged ``!unsafe``: literal text that Ansible never templates."""


def plain_value(value: Any) -> Any:
    """A listed value with ``{"__ansible_unsafe": text}`` as the text itself (UnsafeText);
    a vault value stays ``{"__ansible_vault": ...}`` (the importer refuses it)."""
    if isinstance(value, dict):
        if len(value) == 1 and UNSAFE_KEY in value and isinstance(value[UNSAFE_KEY], str):
            return UnsafeText(value[UNSAFE_KEY])
        return {str(plain_value(k)): plain_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_value(v) for v in value]
    return value


def is_vault(value: Any) -> bool:
    """True when an Ansible Vault value is anywhere inside ``value``."""
    if isinstance(value, dict):
        return VAULT_KEY in value or any(is_vault(v) for v in value.values())
    if isinstance(value, list):
        return any(is_vault(v) for v in value)
    return False


@dataclass(frozen=True)
class InventoryListing:
    """Hosts with their effective variables, and every group's hosts (children resolved)."""

    source: Path
    hostvars: dict[str, dict[str, Any]]  # host -> variable -> value, in inventory order
    groups: dict[str, list[str]]  # group -> hosts (directly or through child groups)


def is_stream(path: Path) -> bool:
    """``-`` (stdin), a FIFO or ``<(...)``, a device: read once, by deepctl, within its limit."""
    return is_stdin(path) or (path.exists() and not path.is_file() and not path.is_dir())


def inventory_source(path: Path) -> Path:
    """The hosts file of an inventory directory (or the file itself, or a stream)."""
    if path.is_file() or is_stream(path):
        return path
    if not path.is_dir():
        raise UsageError(f"{path}: no such inventory file or directory")
    for name in HOSTS_FILES:
        if (path / name).is_file():
            return path / name
    raise UsageError(f"{path}: no hosts file found (looked for {', '.join(HOSTS_FILES)}); "
                     "give the hosts file itself instead of the directory")


# A YAML inventory plugin configuration (aws_ec2.yml...): a top-level ``plugin:`` key, which
# Ansible's ``auto`` plugin looks for; any flow-style document may be one too.
PLUGIN_CONFIG = re.compile(r"""^(["']?plugin["']?\s*:|\{)""", re.M)


def is_plugin_config(source: Path) -> bool:
    """True when Ansible's ``auto`` inventory plugin may read ``source`` as a plugin's
    configuration (a .yml/.yaml file with a top-level ``plugin:``)."""
    if source.suffix not in (".yml", ".yaml"):
        return False
    try:
        return bool(PLUGIN_CONFIG.search(source.read_text(encoding="utf-8", errors="replace")))
    except OSError:
        return True  # let Ansible say what it is


def list_inventory(path: Path) -> InventoryListing:
    """The inventory as ``ansible-inventory --list`` reads it (deepctl.ansible.inventory_listing)."""
    source = inventory_source(path)
    # One read limit for every input (deepctl.user_input): a file over it is refused before
    # Ansible reads it; a stream is read once, within it, into a private copy Ansible reads.
    text = read_input(source, MAX_INVENTORY_BYTES, "hosts file")
    if not is_stream(source):
        return _listed(source, source)
    with tempfile.TemporaryDirectory(prefix="deepctl-import-") as private:
        copy = Path(private) / "hosts"  # no suffix: Ansible tries its YAML and INI parsers
        copy.write_bytes(text)
        return _listed(source, copy)


def _listed(source: Path, hosts_file: Path) -> InventoryListing:
    result = ansible_inventory_list([hosts_file], {"k8s_cluster.yml": K8S_CLUSTER_SOURCE},
                                    plugin_configs=is_plugin_config(hosts_file))
    if result.returncode != 0:
        detail = result.stderr.strip().splitlines()[-1:] or ["no output"]
        raise UsageError(f"{source}: Ansible cannot read this inventory: {detail[0]}")
    return parse_listing(source, json.loads(result.stdout))


def parse_listing(source: Path, data: dict[str, Any]) -> InventoryListing:
    """Pure: ``ansible-inventory --list`` JSON -> hosts, their variables and their groups."""
    hostvars: dict[str, dict[str, Any]] = data.get("_meta", {}).get("hostvars", {})
    groups: dict[str, list[str]] = {}

    def members(group: str, seen: frozenset[str]) -> list[str]:
        entry = data.get(group, {})
        found = dict.fromkeys(entry.get("hosts", []))  # ordered, and O(1) membership
        for child in entry.get("children", []):
            if child not in seen:
                found.update(dict.fromkeys(members(child, seen | {child})))
        return list(found)

    for group in data:
        if group != "_meta":
            groups[group] = members(group, frozenset({group}))
    hosts = groups.get("all", [])
    return InventoryListing(source, {h: plain_value(hostvars.get(h, {})) for h in hosts}, groups)
