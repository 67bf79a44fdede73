"""Verify, level full: when the multi-node all-reduce across all GPU nodes is below its
figure (``spec.verify.expect["multi-node"]``), run the halving rounds of
:mod:`deepctl.verify.blame` on the cluster and name the slow nodes.

Round 1 is the all-nodes run already made; each later round is one set of Indexed Jobs (one
per subset, the same launcher as the all-nodes run: :func:`deepctl.verify.manifests.
nccl_group_manifests`), applied together with ``verify-jobs.yml``, read and judged against the
same figure (bus bandwidth is normalised for the rank count, so it holds for any subset). A
single suspect node runs with a node already cleared (its network is then what is measured),
or, when none is cleared yet, alone with its own GPUs. Without a multi-node figure there is no
blame: the run is measured only (docs/verify.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import yaml

from deepctl.addons.manifests import namespace_manifest
from deepctl.clusterspec.models import Cluster
from deepctl.names import summary
from deepctl.stages.context import StageContext
from deepctl.stages.verify_jobs import apply_and_read, groups_of, node_counts
from deepctl.stages.verify_render import launcher_key
from deepctl.status.model import ApiObject
from deepctl.verify import blame, figures
from deepctl.verify import manifests as m
from deepctl.verify import results as res
from deepctl.verify.nccl import NcclParseError, parse_all_reduce

CHECK = "nccl-blame"


@dataclass(frozen=True)
class Subset:
    """One Job of a round: the suspects it tests and the nodes it runs on."""

    group: str  # the Job's deepctl.io/nccl-group label value
    suspects: blame.Group
    nodes: tuple[str, ...]  # suspects, plus a cleared node next to a single suspect


def subsets(round_no: int, groups: Sequence[blame.Group], cleared: Sequence[str]
            ) -> list[Subset]:
    """The Jobs of round ``round_no`` for ``groups`` (pure)."""
    out = []
    for i, group in enumerate(groups):
        partner = next((c for c in cleared if c not in group), None)
        nodes = (*group, partner) if len(group) == 1 and partner is not None else group
        out.append(Subset(f"blame-{round_no}-{i}", group, nodes))
    return out


def round_texts(cluster: Cluster, parts: Sequence[Subset], gpus: Mapping[str, int],
                ssh_key: tuple[str, str], drain: bool = False) -> list[str]:
    """The YAML texts of one round: the namespace, the launcher's Secret, and per subset its
    headless Service and Indexed Job (pure)."""
    hosts = {h.name: h for h in cluster.gpu_hosts}
    docs: list[m.Manifest] = [m.ssh_secret(*ssh_key)]
    for part in parts:
        docs += m.nccl_group_manifests(cluster, part.group, [hosts[n] for n in part.nodes],
                                       min(gpus[n] for n in part.nodes))
    if drain:
        m.tolerate_cordon(docs)
    return [namespace_manifest(m.NAMESPACE),
            *(yaml.safe_dump(d, sort_keys=False) for d in docs)]


@dataclass
class ClusterProbe:
    """The blame probe on the cluster: each call is one round of Jobs (after round 1, whose
    verdict is the all-nodes run's)."""

    ctx: StageContext
    gpus: Mapping[str, int]
    figure: figures.Figure
    first_slow: bool
    drain: bool = False
    rounds: int = 0
    cleared: list[str] = field(default_factory=list)
    measured: dict[blame.Group, str] = field(default_factory=dict)  # suspects -> what was seen

    def __call__(self, groups: list[blame.Group]) -> list[bool]:
        self.rounds += 1
        if self.rounds == 1:
            return [self.first_slow]
        parts = subsets(self.rounds, groups, self.cleared)
        texts = round_texts(self.ctx.cluster, parts, self.gpus, launcher_key(), self.drain)
        drained = sorted({n for p in parts for n in p.nodes}) if self.drain else []
        self.ctx.record.log(f"verify: blame round {self.rounds}: "
                            + "; ".join(summary(list(p.nodes)) for p in parts))
        _, logs = apply_and_read(self.ctx, texts, f"blame-{self.rounds}", drained)
        out = []
        for part in parts:
            slow, seen = self._judge(logs.get(m.object_name("deepctl-nccl-mn", part.group), ""))
            self.measured[part.suspects] = f"{seen} on {summary(list(part.nodes))}"
            if not slow:
                self.cleared += [n for n in part.nodes if n not in self.cleared]
            out.append(slow)
        return out

    def _judge(self, log: str) -> tuple[bool, str]:
        try:
            result = parse_all_reduce(log)
        except NcclParseError as exc:
            return True, f"no all-reduce result ({exc})"
        if result.wrong:
            return True, f"{result.wrong} wrong values"
        return result.peak_busbw < self.figure.floor, f"{result.peak_busbw:g} GB/s"


def findings_of(found: blame.Blame, probe: ClusterProbe, nodes: int) -> list[res.Finding]:
    """One finding per slow node and per group slow only together (pure)."""
    bound = blame.round_bound(nodes)
    rounds = f"{len(found.rounds)} round(s), bound {bound}"
    floor = probe.figure.floor
    out = [res.Finding(node, CHECK, "fail",
                       f"slows the multi-node all-reduce: {probe.measured.get((node,), '?')}, "
                       f"below {floor:g} GB/s ({rounds})",
                       None, probe.figure.bus_bandwidth_gbps, res.BUSBW, floor)
           for node in found.slow]
    out += [res.Finding(f"group {summary(list(g))}", CHECK, "fail",
                        "slow only together (both halves fast): the link or switch between "
                        f"them, not a node ({rounds})", None, probe.figure.bus_bandwidth_gbps,
                        res.BUSBW, floor)
            for g in found.slow_together]
    if not out:
        out.append(res.Finding("group all", CHECK, "measured",
                               f"no slow node or link found ({rounds})"))
    return out


def blame_if_slow(ctx: StageContext, findings: Sequence[res.Finding],
                  nodes: Mapping[str, ApiObject], drain: bool = False) -> list[res.Finding]:
    """The blame findings when the all-nodes run (of ``nodes``, the API's GPU nodes
    checked) failed its figure ([] otherwise)."""
    whole = next((f for f in findings if f.check == "nccl-multi" and f.node == "group all"),
                 None)
    if whole is None or whole.verdict != "fail" or whole.figure is None:
        return []  # not slow, or no result at all (the pod says why): nothing to halve
    cluster = ctx.cluster
    gpus, _ = node_counts(nodes, cluster.spec.addons.gpu.time_slicing_replicas or 1)
    members = groups_of(cluster, gpus).get("all", [])
    figure = figures.multi_node(cluster.spec.verify, len(members))
    if figure is None or len(members) < 2:
        return []
    probe = ClusterProbe(ctx, gpus, figure, True, drain)
    found = blame.find_slow(members, probe)
    return findings_of(found, probe, len(members))
