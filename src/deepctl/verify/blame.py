"""Blame: which nodes make a multi-node all-reduce slow, in few rounds.

When the all-reduce across all nodes is slow, halve: each round splits every group still
suspected into two halves and measures every half at once (the halves are disjoint, so one
round is one set of concurrent runs). A half that measures fast is cleared with all its
nodes; a slow half is split again, down to single nodes (a single node is measured with a
node already cleared, or alone with its own GPUs). With N nodes that is at most
``ceil(log2 N)`` rounds after the first, whole-cluster one: ``ceil(log2 N) + 1`` in all.

A group that is slow while both of its halves are fast is slow *together* (a link or a
switch between the halves, not a node): it is reported as such and no node of it is
blamed. The probe is a function, so the algorithm runs in simulation in the tests and on
the cluster in the runner.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

Group = tuple[str, ...]
# One round: the groups to measure at once -> for each, True when it is slow.
Probe = Callable[[list[Group]], list[bool]]


@dataclass(frozen=True)
class Blame:
    """What the rounds found: slow nodes, groups slow only together, the rounds run."""

    slow: tuple[str, ...]
    slow_together: tuple[Group, ...] = ()
    rounds: tuple[tuple[Group, ...], ...] = field(default=())


def round_bound(n: int) -> int:
    """The most rounds :func:`find_slow` runs for ``n`` nodes: ``ceil(log2 n) + 1``."""
    return math.ceil(math.log2(n)) + 1 if n > 1 else 1


def halves(group: Group) -> tuple[Group, Group]:
    middle = (len(group) + 1) // 2
    return group[:middle], group[middle:]


def find_slow(nodes: Sequence[str], probe: Probe) -> Blame:
    """Name the slow nodes of ``nodes`` (order kept) by halving rounds of ``probe``.

    Round 1 measures the whole; when it is fast, nobody is blamed.
    """
    whole: Group = tuple(nodes)
    if not whole:
        return Blame(())
    rounds: list[tuple[Group, ...]] = [(whole,)]
    if not probe([whole])[0]:
        return Blame((), (), tuple(rounds))
    suspects: list[Group] = [whole]
    slow: list[str] = []
    together: list[Group] = []
    while suspects:
        singles = [g for g in suspects if len(g) == 1]
        slow.extend(g[0] for g in singles)
        parents = [g for g in suspects if len(g) > 1]
        if not parents:
            break
        tested = [half for g in parents for half in halves(g)]
        rounds.append(tuple(tested))
        verdicts = dict(zip(tested, probe(tested), strict=True))
        suspects = []
        for parent in parents:
            left, right = halves(parent)
            found = [h for h in (left, right) if verdicts[h]]
            if not found:
                together.append(parent)
            suspects.extend(found)
    order = {name: i for i, name in enumerate(whole)}
    return Blame(tuple(sorted(slow, key=order.__getitem__)), tuple(together), tuple(rounds))

