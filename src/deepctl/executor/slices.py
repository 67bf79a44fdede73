"""Split a playbook's hosts over several executors (``spec.executors``), pure.

The control plane and etcd are never split: their hosts form one slice for the primary
executor (``spec.executors[0]``), run first and alone, because Kubespray upgrades and joins
workers against a control plane that is already done. The other hosts are cut into at most
one slice per executor, in the order given (the spec's), in contiguous runs whose sizes differ
by one at most, so ``gpu[001-050]`` and ``gpu[051-100]`` rather than every other host; each
slice runs as its own ``--limit`` on its executor, all at the same time.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Slice:
    executor: int  # index in the spec's executors (0: the primary)
    hosts: tuple[str, ...]

    @property
    def limit(self) -> str:
        """Ansible's ``--limit`` for this slice."""
        return ",".join(self.hosts)


@dataclass(frozen=True)
class SlicePlan:
    pinned: Slice | None  # control plane and etcd: on the primary, before the others
    slices: tuple[Slice, ...]  # the rest, one per executor at most, run concurrently


def balanced(hosts: Sequence[str], count: int) -> list[tuple[str, ...]]:
    """``hosts`` in ``count`` contiguous runs (fewer when there are fewer hosts), the first
    ones one longer when they do not divide evenly; no empty run."""
    parts = min(count, len(hosts))
    if parts <= 0:
        return []
    size, extra = divmod(len(hosts), parts)
    out, start = [], 0
    for i in range(parts):
        end = start + size + (1 if i < extra else 0)
        out.append(tuple(hosts[start:end]))
        start = end
    return out


def plan_slices(hosts: Sequence[str], pinned: Collection[str], executors: int) -> SlicePlan:
    """The slices of ``hosts`` for ``executors`` executors; ``pinned`` (control plane and
    etcd members) all go to the primary, in one slice of their own."""
    unique = list(dict.fromkeys(hosts))
    fixed = tuple(h for h in unique if h in pinned)
    rest = [h for h in unique if h not in pinned]
    return SlicePlan(Slice(0, fixed) if fixed else None,
                     tuple(Slice(i, part) for i, part in enumerate(balanced(rest, executors))))
