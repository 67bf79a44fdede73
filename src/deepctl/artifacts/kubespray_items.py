"""Kubespray's ``downloads`` this spec needs: the spec's inventory rendered, then evaluated by
Ansible (:func:`deepctl.kubespray.downloads.evaluate_downloads`, the same evaluation
that names the URL of a failed hidden download).

At scale, Ansible loading the whole inventory is the cost (8 s at 5,000 hosts), not the
evaluation: so Ansible gets an inventory of *representatives* only. Hosts with the same groups
and the same variables (:mod:`deepctl.kubevars.host_classes`: addresses and node labels, which no
download reads, left out) and the same architecture need the same downloads; one of each
class is evaluated. Every host of ``kube_control_plane``, ``etcd`` and ``calico_rr``
(:data:`KEPT_GROUPS`) stays, so what Kubespray's defaults read of those groups
(``download_delegate`` is ``groups['kube_control_plane'][0]``, ``kube_apiserver_count``,
``etcd_hosts``) is what the whole inventory gives; no download reads the size of the other
groups. tests/integration/test_artifacts_list_classes.py compares both ways.

The evaluation's result is kept between calls (:mod:`deepctl.artifacts.evaluation_cache`),
keyed by everything Ansible reads: a second call for the same spec and tree runs no Ansible.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from deepctl.artifacts import evaluation_cache
from deepctl.clusterspec.models import Cluster
from deepctl.errors import AnsibleError, ArtifactError
from deepctl.fsutil import ensure_private_dir
from deepctl.kubespray.downloads import DEFAULT_ARCH, Download
from deepctl.kubespray.downloads import evaluate_downloads as evaluate
from deepctl.kubespray.source import KubesprayTree, tree_digest
from deepctl.kubevars.host_classes import equivalence_classes, host_groups
from deepctl.kubevars.render import HOSTS_FILE, render_hosts, render_inventory, write_inventory

__all__ = [
    "KEPT_GROUPS",
    "Download",
    "evaluate_downloads",
    "evaluated_hosts",
    "merge",
    "reduced_hosts",
    "representatives",
]

# Groups whose members Kubespray's defaults read (first host, count, list): kept whole.
KEPT_GROUPS = frozenset({"kube_control_plane", "etcd", "calico_rr"})


def representatives(hosts_document: Mapping[str, Any], architectures: Mapping[str, str]
                    ) -> list[str]:
    """Pure: the hosts of a rendered ``hosts.yaml`` (as data) whose evaluation covers every
    host: one per equivalence class and architecture, and every host of :data:`KEPT_GROUPS`;
    in inventory order. The inventory Ansible reads holds these."""
    groups = host_groups(hosts_document)
    return _one_per_class(hosts_document, architectures,
                          {h for h, names in groups.items() if names & KEPT_GROUPS})


def evaluated_hosts(hosts_document: Mapping[str, Any], architectures: Mapping[str, str],
                    own_delegate: bool = False) -> list[str]:
    """Pure: of the :func:`representatives`, the hosts Ansible evaluates: one per class and
    architecture (its first member), and Kubespray's ``download_delegate``, the first control
    plane (with ``download_run_once`` it downloads what the other hosts need). The other
    hosts of :data:`KEPT_GROUPS` stay in the inventory for their groups but each is in a class
    whose first member is evaluated: at 3 control planes and one class of workers, 2 hosts
    are evaluated instead of 4 (each costs Ansible about 0.7 s of CPU). With
    ``own_delegate`` (the inventory sets ``download_delegate`` itself) every representative
    is evaluated."""
    if own_delegate:
        return representatives(hosts_document, architectures)
    children = (hosts_document.get("all") or {}).get("children") or {}
    control_planes = list(((children.get("kube_control_plane") or {}).get("hosts")) or {})
    return _one_per_class(hosts_document, architectures, set(control_planes[:1]))


def _one_per_class(hosts_document: Mapping[str, Any], architectures: Mapping[str, str],
                   chosen: set[str]) -> list[str]:
    classes = equivalence_classes(hosts_document)
    for host_class in classes:
        seen: set[str] = set()
        for host in host_class.members:
            arch = architectures.get(host, DEFAULT_ARCH)
            if arch not in seen:
                seen.add(arch)
                chosen.add(host)
    return [h for c in classes for h in c.members if h in chosen]


def reduced_hosts(hosts_document: Mapping[str, Any], keep: set[str]) -> dict[str, Any]:
    """Pure: ``hosts_document`` with only the hosts in ``keep`` (their order and every group,
    variable and child group as they were)."""

    def node(body: Mapping[str, Any] | None) -> Any:
        if body is None:
            return None
        out = dict(body)
        if "hosts" in out:
            out["hosts"] = {h: v for h, v in (out["hosts"] or {}).items() if h in keep}
        if "children" in out:
            out["children"] = {name: node(child) for name, child in (out["children"] or {}).items()}
        return out

    return {"all": node(hosts_document["all"])}


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
    """Evaluate on a rendered inventory of ``cluster``'s representatives; the items it needs."""
    arch = dict(architectures or {})
    document = render_hosts(cluster)
    hosts = representatives(document, arch)
    files = render_inventory(cluster, "artifacts list", reduced_hosts(document, set(hosts)))
    evaluated = evaluated_hosts(document, arch,
                                own_delegate=any("download_delegate" in t for t in files.values()))
    host_arch = {h: a for h, a in arch.items() if h in set(evaluated)}
    key = evaluation_cache.evaluation_key(tree_digest(tree.path), files, evaluated, host_arch)
    per_host = evaluation_cache.load(key)
    if per_host is None:
        per_host = _evaluate(tree, files, evaluated, host_arch)
        evaluation_cache.store(key, per_host)
    return merge([per_host.get(h, []) for h in evaluated])


def _evaluate(tree: KubesprayTree, files: dict[str, str], hosts: list[str],
              architectures: Mapping[str, str]) -> dict[str, list[Download]]:
    with tempfile.TemporaryDirectory(prefix="deepctl-artifacts-") as tmp:
        inventory = ensure_private_dir(Path(tmp) / "inventory")
        write_inventory(inventory, files)
        try:
            return evaluate(tree.path, inventory / HOSTS_FILE, hosts, architectures)
        except AnsibleError as exc:
            raise ArtifactError(
                exc.message,
                hint="check that the Kubespray tree is v2.31.0 (`deepctl kubespray fetch`) and that "
                "the spec passes `deepctl validate`",
            ) from exc
