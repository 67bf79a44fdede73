"""``deepctl verify --report FILE.html``: one self-contained page (inline CSS and SVG, no
script, nothing fetched) with each node's bus bandwidth against its expected band, the DCGM
verdict per node and GPU, and the outliers marked (pure: findings in, HTML out)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from html import escape

from deepctl.verify.results import Finding

BAR_H = 22
LABEL_W = 180
CHART_W = 520

CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse}td,th{padding:3px 10px;border-bottom:1px solid #ddd;text-align:left}
td:not(:last-child){white-space:nowrap}
.pass{color:#1a7f37}.fail,.outlier{color:#c62828;font-weight:600}.measured{color:#555}
svg text{font:12px system-ui,sans-serif}
"""


def outliers(findings: Sequence[Finding], tolerance: float) -> set[str]:
    """Nodes whose single-node bus bandwidth failed its figure, or lies more than
    ``tolerance`` below the median of the nodes measured (figure or not)."""
    nccl = [f for f in findings if f.check == "nccl-node" and f.figure is not None]
    if not nccl:
        return set()
    median = statistics.median(f.figure for f in nccl if f.figure is not None)
    return {f.node for f in nccl if f.verdict == "fail"
            or (f.figure is not None and f.figure < median * (1 - tolerance))}


def _chart(nccl: Sequence[Finding], marked: set[str]) -> str:
    top = max([f.figure or 0 for f in nccl] + [f.expected or 0 for f in nccl]) * 1.1 or 1
    scale = CHART_W / top
    rows = []
    for i, f in enumerate(nccl):
        y = i * (BAR_H + 8)
        cls = "outlier" if f.node in marked else f.verdict
        band = ""
        if f.expected is not None and f.floor is not None:
            band = (f'<rect class="band" x="{LABEL_W + f.floor * scale:.1f}" y="{y}" '
                    f'width="{(f.expected - f.floor) * scale:.1f}" height="{BAR_H}" '
                    f'fill="#c8e6c9"><title>expected {f.floor:g}-{f.expected:g} GB/s</title></rect>')
        colour = "#c62828" if f.node in marked else "#1565c0"
        rows.append(
            f'<g class="node {cls}" data-node="{escape(f.node)}">'
            f'<text x="0" y="{y + 15}">{escape(f.node)}{" (outlier)" if f.node in marked else ""}'
            f"</text>{band}"
            f'<rect class="bar" x="{LABEL_W}" y="{y + 5}" width="{(f.figure or 0) * scale:.1f}" '
            f'height="{BAR_H - 10}" fill="{colour}"/>'
            f'<text x="{LABEL_W + (f.figure or 0) * scale + 6:.1f}" y="{y + 15}">'
            f"{f.figure:g} GB/s</text></g>")
    height = len(nccl) * (BAR_H + 8)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{LABEL_W + CHART_W + 120}" '
            f'height="{height}" role="img" aria-label="bus bandwidth per node">'
            + "".join(rows) + "</svg>")


def html_report(cluster: str, level: str, findings: Sequence[Finding], tolerance: float) -> str:
    marked = outliers(findings, tolerance)
    nccl = [f for f in findings if f.check == "nccl-node" and f.figure is not None]
    parts = [f"<h1>deepctl verify: {escape(cluster)} (level {escape(level)})</h1>"]
    failed = sum(1 for f in findings if f.verdict == "fail")
    parts.append(f'<p class="{"fail" if failed else "pass"}">{failed} failed of '
                 f"{len(findings)} findings; outliers: {escape(', '.join(sorted(marked)) or 'none')}</p>")
    if nccl:
        parts += ["<h2>Single-node NCCL all-reduce bus bandwidth (GB/s); green: expected band</h2>",
                  _chart(nccl, marked)]
    parts += ["<h2>Findings</h2>", "<table><tr><th>node</th><th>check</th><th>verdict</th>"
              "<th>figure</th><th>expected</th><th>why</th></tr>"]
    for f in findings:
        cls = "outlier" if f.node in marked and f.check == "nccl-node" else f.verdict
        parts.append(
            f'<tr class="finding {cls}" data-node="{escape(f.node)}"><td>{escape(f.node)}</td>'
            f"<td>{escape(f.check)}</td><td class=\"{f.verdict}\">{f.verdict}</td>"
            f"<td>{'' if f.figure is None else f'{f.figure:g} {escape(f.unit)}'}</td>"
            f"<td>{'' if f.expected is None else f'{f.expected:g} {escape(f.unit)}'}</td>"
            f"<td>{escape(f.why)}</td></tr>")
    parts.append("</table>")
    return ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f"<title>deepctl verify: {escape(cluster)}</title><style>{CSS}</style></head>"
            f"<body>{''.join(parts)}</body></html>\n")
