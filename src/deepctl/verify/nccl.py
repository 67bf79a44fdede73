"""Parse nccl-tests' ``all_reduce_perf`` output (single- and multi-node, with or without
mpirun's ``[1,0]<stdout>:`` prefix, old and new column layouts).

The figure deepctl judges is the *peak* bus bandwidth (the best ``busbw`` of any size,
out-of-place or in-place): small sizes measure latency, not bandwidth.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MPI_PREFIX = re.compile(r"^\[\d+,\d+\]<std(?:out|err)>:")
DEVICE = re.compile(
    r"^#\s*Rank\s+(?P<rank>\d+)(?:\s+Group\s+\d+)?\s+Pid\s+\d+\s+on\s+(?P<host>\S+)\s+device\s+"
    r"(?P<device>\d+)\s+\[[^\]]*\]\s+(?P<gpu>.+?)\s*$")
AVG = re.compile(r"^#\s*Avg bus bandwidth\s*:\s*(?P<avg>[0-9.]+)")
OUT_OF_BOUNDS = re.compile(r"^#\s*Out of bounds values\s*:\s*(?P<n>\d+)")


class NcclParseError(ValueError):
    """The text is not an ``all_reduce_perf`` output deepctl can read."""


@dataclass(frozen=True)
class Rank:
    rank: int
    host: str
    device: int
    gpu: str


@dataclass(frozen=True)
class SizeResult:
    size: int
    out_of_place_busbw: float
    in_place_busbw: float


@dataclass(frozen=True)
class AllReduce:
    ranks: tuple[Rank, ...]
    sizes: tuple[SizeResult, ...]
    avg_busbw: float | None
    wrong: int  # out-of-bounds values (0: results correct)

    @property
    def hosts(self) -> tuple[str, ...]:
        """The hosts of the ranks, in rank order, once each."""
        return tuple(dict.fromkeys(r.host for r in self.ranks))

    @property
    def peak_busbw(self) -> float:
        return max(max(s.out_of_place_busbw, s.in_place_busbw) for s in self.sizes)

    @property
    def gpus_per_host(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.ranks:
            out[r.host] = out.get(r.host, 0) + 1
        return out


def _lines(text: str) -> list[str]:
    return [MPI_PREFIX.sub("", line).strip() for line in text.splitlines()]


def _busbw_columns(header: str) -> tuple[int, int]:
    names = header.lstrip("#").split()
    found = [i for i, name in enumerate(names) if name == "busbw"]
    if len(found) != 2:
        raise NcclParseError(f"unexpected column header: {header!r}")
    return found[0], found[1]


def _float(token: str) -> float:
    try:
        return float(token)
    except ValueError:
        return 0.0  # "N/A" (in-place not run)


def parse_all_reduce(text: str) -> AllReduce:
    """An :class:`AllReduce` from the text ``all_reduce_perf`` printed."""
    ranks: list[Rank] = []
    sizes: list[SizeResult] = []
    avg: float | None = None
    wrong = 0
    columns: tuple[int, int] | None = None
    for line in _lines(text):
        if (m := DEVICE.match(line)) is not None:
            ranks.append(Rank(int(m["rank"]), m["host"], int(m["device"]), m["gpu"]))
        elif line.startswith("#") and "busbw" in line and "size" in line:
            columns = _busbw_columns(line)
        elif (m := AVG.match(line)) is not None:
            avg = float(m["avg"])
        elif (m := OUT_OF_BOUNDS.match(line)) is not None:
            wrong = int(m["n"])
        elif columns is not None and line and line[0].isdigit():
            tokens = line.split()
            if len(tokens) > columns[1] and tokens[0].isdigit():
                sizes.append(SizeResult(int(tokens[0]), _float(tokens[columns[0]]),
                                        _float(tokens[columns[1]])))
    if not sizes:
        raise NcclParseError("no result rows (is this all_reduce_perf output? did it finish?)")
    return AllReduce(tuple(ranks), tuple(sizes), avg, wrong)
