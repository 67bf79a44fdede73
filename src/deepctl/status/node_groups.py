"""The nodes of a big cluster for people: identical healthy nodes as one row per kind (GPU
model, state, roles, versions), and only the outliers node by node. Pure.

A node is an outlier when it has a problem (:func:`deepctl.status.nodes.node_problems`), is
not Ready, is missing from the cluster or is not in the spec; any other node joins the group
of the nodes that show the same in every column but its name, its address and the GPUs in
use (which are added up). ``deepctl status --nodes all`` shows every node instead; ``--json``
always lists every node.
"""

from __future__ import annotations

from dataclasses import dataclass

from deepctl.status.model import NodeStatus, StatusReport

GROUP_ABOVE = 20  # more nodes than this: the healthy ones are grouped (--nodes auto)
MAX_OUTLIERS = 25  # outlier rows shown before one row counts the rest


@dataclass(frozen=True)
class NodeGroup:
    """Healthy nodes that look the same: what they share, and who they are."""

    status: str
    roles: str
    kubelet: str
    taints: str
    gpus: str  # "allocatable/capacity", "-" without GPUs
    expected: str
    product: str
    mig: str
    names: tuple[str, ...]
    in_use: int


Key = tuple[str, str, str, str, str, str, str, str]


def _key(node: NodeStatus) -> Key:
    g = node.gpus
    has_gpus = bool(g.capacity or g.allocatable or node.gpu_host or g.mig_devices)
    mig = "/".join(x for x in (g.mig_config, g.mig_strategy) if x) or "-"
    return (node.status, ", ".join(node.roles) or "<none>", node.kubelet or "-",
            ", ".join(node.taints) or "-",
            f"{g.allocatable}/{g.capacity}" if has_gpus else "-",
            str(g.expected) if g.expected is not None else ("unknown" if node.gpu_host else "-"),
            (g.product or "-") + "".join(f" {k}×{v}" for k, v in g.mig_devices.items()),
            mig if has_gpus else "-")


def troubled_nodes(report: StatusReport) -> set[str]:
    """Names of the nodes a problem of ``report`` is about."""
    return {p.subject.removeprefix("node ") for p in report.problems
            if p.subject.startswith("node ")}


def group_nodes(nodes: list[NodeStatus], troubled: set[str]
                ) -> tuple[list[NodeGroup], list[NodeStatus]]:
    """(groups of identical healthy nodes, in order of their first node; the outliers, in
    the order given)."""
    groups: dict[Key, list[NodeStatus]] = {}
    outliers: list[NodeStatus] = []
    for node in nodes:
        if (node.name in troubled or not node.in_spec or not node.in_cluster
                or node.status != "Ready"):
            outliers.append(node)
        else:
            groups.setdefault(_key(node), []).append(node)
    return [NodeGroup(*key, tuple(n.name for n in members), sum(n.gpus.in_use for n in members))
            for key, members in groups.items()], outliers
