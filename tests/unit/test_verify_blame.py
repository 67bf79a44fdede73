"""Blame by halving rounds, in simulation: planted slow nodes at 8, 64 and 1,024 nodes."""

from __future__ import annotations

import math
import random

import pytest

from deepctl.verify.blame import Group, Probe, find_slow, round_bound


def simulated(slow: set[str], calls: list[list[Group]]) -> Probe:
    """Stands in for the cluster: a group measures slow when it holds a planted slow node."""
    def probe(groups: list[Group]) -> list[bool]:
        calls.append(groups)
        for g in groups:  # one round's groups are disjoint: they can run at once
            assert len(set(g)) == len(g)
        names = [n for g in groups for n in g]
        assert len(names) == len(set(names)), "a node measured twice in one round"
        return [any(n in slow for n in g) for g in groups]
    return probe


def nodes(n: int) -> list[str]:
    return [f"gpu{i:04d}" for i in range(1, n + 1)]


@pytest.mark.parametrize("n", [8, 64, 1024])
@pytest.mark.parametrize("planted", [1, 2, 5])
def test_planted_slow_nodes_are_named_within_the_round_bound(n: int, planted: int) -> None:
    rng = random.Random(n * 31 + planted)
    names = nodes(n)
    slow = set(rng.sample(names, planted))
    calls: list[list[Group]] = []
    blame = find_slow(names, simulated(slow, calls))
    assert set(blame.slow) == slow  # every slow node named, no healthy one blamed
    assert blame.slow_together == ()
    assert len(calls) == len(blame.rounds) <= math.ceil(math.log2(n)) + 1 == round_bound(n)


@pytest.mark.parametrize("n", [8, 64, 1024])
def test_every_node_slow_is_still_bounded(n: int) -> None:
    names = nodes(n)
    calls: list[list[Group]] = []
    blame = find_slow(names, simulated(set(names), calls))
    assert blame.slow == tuple(names)
    assert len(calls) <= round_bound(n)


def test_a_fast_whole_blames_nobody_in_one_round() -> None:
    calls: list[list[Group]] = []
    blame = find_slow(nodes(64), simulated(set(), calls))
    assert blame.slow == () and len(calls) == 1


def test_odd_counts_and_a_single_node() -> None:
    names = nodes(13)
    calls: list[list[Group]] = []
    assert find_slow(names, simulated({"gpu0013"}, calls)).slow == ("gpu0013",)
    assert len(calls) <= round_bound(13) == 5
    assert find_slow(["a"], simulated({"a"}, [])).slow == ("a",)
    assert round_bound(1) == 1


def test_slow_only_together_blames_no_node() -> None:
    """A bad link between two halves: the whole is slow, each half alone is fast."""
    names = nodes(8)
    left, right = set(names[:4]), set(names[4:])

    def probe(groups: list[Group]) -> list[bool]:
        return [bool(set(g) & left) and bool(set(g) & right) for g in groups]

    blame = find_slow(names, probe)
    assert blame.slow == ()
    assert blame.slow_together == (tuple(names),)
