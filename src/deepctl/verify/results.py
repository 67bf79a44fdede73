"""verify's findings: per node (or group) and per check the figure, the expected figure,
the verdict and why; judged from the Jobs' logs (pure), shown one line per finding with
the same finding on many nodes grouped (names.summary), compared with the last run."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from deepctl.clusterspec.verify import VerifyConfig
from deepctl.names import summary
from deepctl.verify import figures
from deepctl.verify.dcgm import DcgmParseError, parse_diag
from deepctl.verify.nccl import NcclParseError, parse_all_reduce

Verdict = Literal["pass", "fail", "measured"]
BUSBW = "GB/s"


@dataclass(frozen=True)
class Finding:
    node: str  # node name, or "group NAME" for a multi-node run
    check: str  # "dcgm-2", "dcgm-3", "nccl-node", "nccl-multi"
    verdict: Verdict
    why: str
    figure: float | None = None
    expected: float | None = None
    unit: str = ""
    floor: float | None = None  # the lowest passing figure (expected minus the tolerance)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def judge_dcgm(node: str, check: str, log: str, detail: str = "") -> Finding:
    """A node's ``dcgmi diag -j`` log -> pass, or fail naming the failed tests and GPUs."""
    try:
        report = parse_diag(log)
    except DcgmParseError as exc:
        return Finding(node, check, "fail", f"no diagnostic result ({exc}){_pod(detail)}")
    if report.passed:
        notes = [f"{report.count(s)} {s}" for s in ("warn", "skip") if report.count(s)]
        return Finding(node, check, "pass",
                       f"{report.count('pass')} tests passed" + (f" ({', '.join(notes)})"
                                                                 if notes else ""))
    failed = "; ".join(f"{r.test} on GPU {r.gpus or 'all'}" + (f": {r.message}" if r.message else "")
                       for r in report.failed)
    return Finding(node, check, "fail", f"failed: {failed}")


def _pod(detail: str) -> str:
    return f"; pod {detail}" if detail else ""


def judge_nccl_node(node: str, product: str, gpus: int, log: str, config: VerifyConfig,
                    detail: str = "") -> Finding:
    """A node's ``all_reduce_perf`` log against the figure for its GPU model and count."""
    try:
        result = parse_all_reduce(log)
    except NcclParseError as exc:
        return Finding(node, "nccl-node", "fail", f"no all-reduce result ({exc}){_pod(detail)}")
    figure = figures.expected(product, gpus, config)
    measured = result.peak_busbw
    if result.wrong:
        return Finding(node, "nccl-node", "fail", f"{result.wrong} wrong values in the results",
                       measured, figure.bus_bandwidth_gbps if figure else None, BUSBW)
    judged = figures.judge(measured, figure)
    return Finding(node, "nccl-node", judged.verdict, judged.why, measured,
                   figure.bus_bandwidth_gbps if figure else None, BUSBW,
                   figure.floor if figure else None)


def judge_nccl_multi(group: str, nodes: Sequence[str], log: str, detail: str = "",
                     figure: figures.Figure | None = None) -> Finding:
    """A multi-node all-reduce, judged against ``figure`` (``spec.verify.expect
    ["multi-node"]``); without one measured and reported (its figure depends on the fabric)."""
    name = f"group {group}"
    try:
        result = parse_all_reduce(log)
    except NcclParseError as exc:
        return Finding(name, "nccl-multi", "fail", f"no all-reduce result ({exc}){_pod(detail)}")
    expected = figure.bus_bandwidth_gbps if figure else None
    floor = figure.floor if figure else None
    if result.wrong:
        return Finding(name, "nccl-multi", "fail", f"{result.wrong} wrong values in the results",
                       result.peak_busbw, expected, BUSBW, floor)
    across = f"across {summary(list(nodes))}"
    if figure is None:
        return Finding(name, "nccl-multi", "measured",
                       f"{result.peak_busbw:g} GB/s {across} (no multi-node figure in "
                       f'spec.verify.expect["{figures.MULTI_NODE}"]: measured only, no blame)',
                       result.peak_busbw, None, BUSBW)
    judged = figures.judge(result.peak_busbw, figure)
    return Finding(name, "nccl-multi", judged.verdict, f"{judged.why} {across}",
                   result.peak_busbw, expected, BUSBW, floor)


def failed(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.verdict == "fail"]


def lines(findings: Sequence[Finding]) -> list[str]:
    """One line per finding; the same check, verdict and reason on many nodes is one line."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    for f in findings:
        groups.setdefault((f.check, f.verdict, f.why), []).append(f.node)
    return [f"{verdict:<8} {check:<10} {summary(nodes)}: {why}"
            for (check, verdict, why), nodes in groups.items()]


def compare(previous: Sequence[Mapping[str, Any]], current: Sequence[Finding],
            tolerance: float) -> list[str]:
    """What fell since the last run: a node whose bus bandwidth dropped by more than
    ``tolerance`` (fraction), and a check that passed then and fails now."""
    before = {(str(p.get("node")), str(p.get("check"))): p for p in previous}
    out = []
    for f in current:
        old = before.get((f.node, f.check))
        if old is None:
            continue
        was = old.get("figure")
        if f.figure is not None and isinstance(was, int | float) and was > 0 \
                and f.figure < was * (1 - tolerance):
            drop = round((1 - f.figure / was) * 100)
            out.append(f"{f.node} {f.check}: {f.figure:g} GB/s, was {was:g} GB/s (-{drop}%)")
        elif old.get("verdict") == "pass" and f.verdict == "fail":
            out.append(f"{f.node} {f.check}: failed, passed last time ({f.why})")
    return out
