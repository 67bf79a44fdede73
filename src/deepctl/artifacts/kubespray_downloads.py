"""Kubespray's ``downloads`` this spec needs: the spec's inventory rendered, then evaluated by
Ansible (:func:`deepctl.ansible.kubespray_downloads.evaluate_downloads`, the same evaluation
that names the URL of a failed hidden download). Only one host per (roles, architecture) is
evaluated: variables differ only by group.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path

from deepctl.ansible.kubespray_downloads import DEFAULT_ARCH, Download
from deepctl.ansible.kubespray_downloads import evaluate_downloads as evaluate
from deepctl.errors import AnsibleError, ArtifactError
from deepctl.fsutil import ensure_private_dir
from deepctl.inventory import HOSTS_FILE, render_inventory, write_inventory
from deepctl.kubespray_source import KubesprayTree
from deepctl.spec.models import Cluster

__all__ = ["Download", "evaluate_downloads", "merge", "representatives"]


def representatives(cluster: Cluster, architectures: Mapping[str, str]) -> list[str]:
    """One host per (roles, architecture): the hosts whose evaluation covers every host."""
    seen: dict[tuple[tuple[str, ...], str], str] = {}
    for host in cluster.spec.hosts:
        key = (tuple(sorted(host.roles)), architectures.get(host.name, DEFAULT_ARCH))
        seen.setdefault(key, host.name)
    return list(seen.values())


def merge(per_host: list[list[Download]]) -> list[Download]:
    """The union over hosts, in first-seen order, without duplicates."""
    out: dict[tuple[str, str | None, str | None], Download] = {}
    for items in per_host:
        for item in items:
            out.setdefault((item.name, item.url, item.repo), item)
    return list(out.values())


def evaluate_downloads(
    cluster: Cluster, tree: KubesprayTree, architectures: Mapping[str, str] | None = None
) -> list[Download]:
    """Evaluate on a rendered copy of ``cluster``'s inventory; the items it needs."""
    arch = dict(architectures or {})
    with tempfile.TemporaryDirectory(prefix="deepctl-artifacts-") as tmp:
        inventory = ensure_private_dir(Path(tmp) / "inventory")
        write_inventory(inventory, render_inventory(cluster, "artifacts list"))
        try:
            per_host = evaluate(tree.path, inventory / HOSTS_FILE, representatives(cluster, arch), arch)
        except AnsibleError as exc:
            raise ArtifactError(
                exc.message,
                hint="check that the Kubespray tree is v2.31.0 (`deepctl kubespray fetch`) and that "
                "the spec passes `deepctl validate`",
            ) from exc
    return merge(list(per_host.values()))
