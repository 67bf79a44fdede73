"""Tables never cut an identifier: natural width off a terminal, split columns on a narrow
one; preflight findings shared by many hosts are printed once."""

from __future__ import annotations

import io
import re

from rich.console import Console
from rich.table import Table

from deepctl.cli.commands.preflight import print_report
from deepctl.cli.tables import print_table, split_columns
from deepctl.preflight.model import Finding, HostResult, PreflightReport
from deepctl.preflight.summary import group_notable

LONG = "gpu-node-with-a-really-long-name-0001.rack-17.example.internal"


def console(*, terminal: bool, width: int = 80) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=width, force_terminal=terminal, color_system=None,
                   highlight=False, soft_wrap=True), out


def wide_table() -> Table:
    table = Table(title="Nodes")
    for header in ("node", "status", "roles", "kubelet", "internal IP", "GPU product", "MIG"):
        table.add_column(header, no_wrap=True)
    table.add_row(LONG, "Ready", "control-plane, etcd, worker", "v1.35.4", "10.200.17.254",
                  "NVIDIA H100 80GB HBM3", "all-1g.10gb/mixed")
    return table


def test_split_columns_keeps_the_identifier_in_every_part() -> None:
    assert split_columns([10, 5, 5], 100) == [[0, 1, 2]]
    assert split_columns([10, 20, 20, 20], 40) == [[0, 1], [0, 2], [0, 3]]
    assert split_columns([4, 1, 9], 40, keep=2) == [[0, 1, 2]]


def test_off_a_terminal_a_table_keeps_its_natural_width_whatever_columns_says() -> None:
    con, out = console(terminal=False, width=80)
    print_table(con, wide_table())
    assert LONG in out.getvalue() and "…" not in out.getvalue()
    assert "control-plane, etcd, worker" in out.getvalue()


def test_on_a_narrow_terminal_the_columns_are_split_and_names_stay_whole() -> None:
    con, out = console(terminal=True, width=80)
    print_table(con, wide_table())
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue())
    assert "…" not in text
    assert text.count(LONG) >= 2  # the name heads each part
    assert max(len(line) for line in text.splitlines()) <= 80


def report(hosts: int) -> PreflightReport:
    results = []
    for i in range(hosts):
        name = f"gpu{i:04d}"
        findings = [Finding(name, "system", "swap", "warning", "swap is on", "swapoff -a")]
        if i == 3:
            findings.append(Finding(name, "gpu", "driver", "error", "no NVIDIA driver", "install"))
        results.append(HostResult(name, f"10.0.{i // 250}.{i % 250}", findings=findings))
    return PreflightReport("big", results)


def test_identical_findings_on_many_hosts_are_one_line() -> None:
    groups = group_notable(report(192).hosts)
    assert [(len(g.hosts), [f.message for f in g.findings]) for g in groups] == [
        (192, ["swap is on"]), (1, ["no NVIDIA driver"])]
    con, out = console(terminal=False)
    print_report(report(192), con, "/facts")
    text = out.getvalue()
    assert text.count("swap is on") == 1
    assert "192 hosts: gpu[0000-0191]" in text
    assert "gpu0003 (10.0.0.3)" in text and text.count("no NVIDIA driver") == 1


def test_preflight_report_at_5000_hosts_is_a_screenful() -> None:
    """Past 20 hosts, hosts with the same marks share one row of the summary table."""
    con, out = console(terminal=False)
    print_report(report(5000), con, "/facts")
    lines = out.getvalue().splitlines()
    assert len(lines) <= 25, len(lines)
    assert max(len(line) for line in lines) <= 200
    rows = [line for line in lines if line.startswith("│")]
    assert len(rows) == 2
    assert rows[0].startswith("│ 4999 hosts: gpu[0000-0002], gpu[0004-4999] │ -")
    assert rows[1].startswith("│ gpu0003 ") and "10.0.0.3" in rows[1]


def test_preflight_table_of_a_few_hosts_has_a_row_each() -> None:
    con, out = console(terminal=False)
    print_report(report(3), con, "/facts")
    rows = [line for line in out.getvalue().splitlines() if line.startswith("│")]
    assert [r.split()[1] for r in rows] == ["gpu0000", "gpu0001", "gpu0002"]
