"""Kubespray's evaluated downloads, kept between calls of ``deepctl artifacts list``.

Evaluating them costs Ansible about 4.5 s of CPU at any cluster size (it loads the role
``kubespray_defaults``). What Ansible computes depends only on what it reads: the Kubespray
tree (its content hash), the inventory deepctl renders for the evaluation (hosts.yaml of the
representatives and every group_vars file: each class's variables, the spec's
``kubesprayVars`` and offline settings), the hosts evaluated and their architectures, the
playbook deepctl generates and the ansible-core that runs it. The key is a hash of all of
them, so a change to any one is a new key and a new evaluation; the result is kept under
``$XDG_CACHE_HOME/deepctl/downloads/<key>.json`` (0600). A file that cannot be read back as
a result is evaluated again and replaced.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from deepctl.errors import DeepctlError
from deepctl.fsutil import atomic_write, ensure_private_dir
from deepctl.kubespray.downloads import Download, playbook_text
from deepctl.kubespray.source import cache_home
from deepctl.state_guard import check_dir

FORMAT = 1  # of the key's inputs and of the file; bump when either changes


@cache
def ansible_core_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ansible-core")
    except PackageNotFoundError:
        return "unknown"


def evaluation_key(tree_digest: str, inventory: Mapping[str, str], hosts: Sequence[str],
                   architectures: Mapping[str, str], ansible: str | None = None) -> str:
    """Pure: the hash of everything the evaluation reads (``inventory``: file path relative
    to the inventory directory -> text, as :func:`deepctl.kubevars.render.render_inventory`
    gives; ``architectures``: of ``hosts``)."""
    inputs = {
        "format": FORMAT,
        "tree": tree_digest,
        "inventory": sorted(inventory.items()),
        "hosts": list(hosts),
        "architectures": sorted(architectures.items()),
        "playbook": playbook_text(),
        "ansible": ansible if ansible is not None else ansible_core_version(),
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def cache_file(key: str) -> Path:
    return cache_home() / "downloads" / f"{key}.json"


def load(key: str) -> dict[str, list[Download]] | None:
    """The result kept for ``key``, or None (none kept, not readable as one, or in a
    directory that another user could write to)."""
    path = cache_file(key)
    try:
        check_dir(path.parent)
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT or data.get("key") != key:
            return None
        return {str(host): [Download(**item) for item in items]
                for host, items in data["hosts"].items()}
    except (OSError, ValueError, TypeError, AttributeError, KeyError, DeepctlError):
        return None


def store(key: str, per_host: Mapping[str, Sequence[Download]]) -> None:
    """Keep a result; a cache that cannot be written only costs the next call the time."""
    document: dict[str, Any] = {
        "format": FORMAT, "key": key,
        "hosts": {host: [dataclasses.asdict(d) for d in items] for host, items in per_host.items()},
    }
    try:
        path = cache_file(key)
        ensure_private_dir(path.parent)
        atomic_write(path, json.dumps(document) + "\n", 0o600)
    except (OSError, DeepctlError):
        return
