"""Import: what an inventory may hold but a spec never will, named with where it was set.

Secrets (Ansible Vault values, passwords) and settings that change how Ansible reaches a host
or becomes root on it are refused, like ``kubesprayVars`` refuses them in a spec
(deepctl.clusterspec.kubespray_rules); a value the inventory tagged ``!unsafe`` that holds Jinja
cannot stay literal in ``kubesprayVars`` (whose values are templates). Each refusal is one
line per variable, with the hosts and the files (FILE:LINE) that set it; values are never
echoed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from deepctl.clusterspec.kubespray_rules import (
    ansible_connection_variables,
    is_lookup,
    is_password_name,
)
from deepctl.importer.listing import InventoryListing, UnsafeText, is_vault
from deepctl.names import summary

# Connection variables the importer reads itself (hosts.py): they become spec.ssh/spec.hosts.
READ_BY_IMPORT = frozenset(
    {"ansible_host", "ansible_ssh_host", "ansible_user", "ansible_ssh_user", "ansible_port",
     "ansible_ssh_port", "ansible_ssh_private_key_file", "ansible_private_key_file",
     "ansible_become"}
)
MAX_FILES = 20  # inventory files searched for a name: at most this many listed
MAX_SEARCHED_BYTES = 16 * 1024 * 1024


def _holds_jinja_literal(value: Any) -> bool:
    if isinstance(value, UnsafeText):
        return "{{" in value or "{%" in value
    if isinstance(value, dict):
        return any(_holds_jinja_literal(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_jinja_literal(v) for v in value)
    return False


def inventory_files(source: Path) -> list[Path]:
    """The hosts file, then every file under group_vars/ and host_vars/ beside it."""
    files = [source]
    for folder in ("group_vars", "host_vars"):
        root = source.parent / folder
        if root.is_dir():
            files += sorted(p for p in root.rglob("*") if p.is_file())
    return files


def where_set(source: Path, name: str) -> list[str]:
    """``FILE:LINE`` of every line of the inventory's files that sets ``name`` (YAML ``name:``,
    INI ``name=``); relative to the inventory's directory."""
    pattern = re.compile(rf"(^|[\s{{,\"'])({re.escape(name)})[\"']?\s*[:=]")
    found: list[str] = []
    searched = 0
    for path in inventory_files(source):
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        searched += len(text)
        if searched > MAX_SEARCHED_BYTES:
            break
        if name not in text:
            continue
        shown = path.relative_to(source.parent) if path != source else Path(source.name)
        for number, line in enumerate(text.splitlines(), 1):
            if name in line and pattern.search(line):
                found.append(f"{shown}:{number}")
    return found


def _reason(name: str, values: list[Any]) -> str | None:
    if any(is_vault(v) for v in values):
        return ("is encrypted with Ansible Vault: deepctl writes no secret into a spec and "
                "cannot keep it encrypted there; leave it in the inventory's group_vars for "
                "Kubespray, or give a lookup of a file only you can read in kubesprayVars")
    refused = ansible_connection_variables().get(name)
    if is_password_name(name) and (refused is not None or name.startswith("ansible_")):
        return ("is a login or sudo password: deepctl logs in with keys and uses passwordless "
                "sudo, and writes no password into a spec; remove it")
    if refused is not None and name not in READ_BY_IMPORT:
        return (f"changes how Ansible reaches or becomes root on the hosts ({refused.split('; ')[0]}); "
                "deepctl and Ansible must reach them the same way, through spec.ssh (a jump "
                "host is spec.ssh.bastion); remove it")
    if is_password_name(name) and not all(is_lookup(v) for v in values):
        return ("holds a password in plain text: a spec keeps none; in the spec give a lookup "
                f"of a file only you can read instead: {name}: "
                "\"{{ lookup('file', '/path/to/file') }}\"")
    if any(_holds_jinja_literal(v) for v in values):
        return ("is tagged !unsafe and holds Jinja ('{{' or '{%'): kubesprayVars values are "
                "Ansible templates, so the spec cannot keep it literal")
    return None


def refused_variables(listing: InventoryListing) -> dict[str, str]:
    """variable -> the refusal (naming the hosts and the files that set it)."""
    names = dict.fromkeys(n for variables in listing.hostvars.values() for n in variables)
    out: dict[str, str] = {}
    for name in names:
        holders = {h: v[name] for h, v in listing.hostvars.items() if name in v}
        reason = _reason(name, list(holders.values()))
        if reason is None:
            continue
        places = where_set(listing.source, name)
        where = f"set in {', '.join(places[:MAX_FILES])}" if places else "set by the inventory"
        if len(places) > MAX_FILES:
            where += f" and {len(places) - MAX_FILES} more"
        out[name] = f"{name} (hosts {summary(list(holders))}; {where}) {reason}"
    return out
