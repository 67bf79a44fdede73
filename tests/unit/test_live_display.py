"""The live view's content (pure parts) and that its cost does not grow with the cluster."""

from __future__ import annotations

import io
import time

from rich.console import Console

from deepctl.engine.display import LiveDisplay, host_rows, host_table, stage_lines
from deepctl.engine.progress import HostCounts, PlaybookProgress


def test_host_rows_put_failures_first_and_add_up_the_rest() -> None:
    hosts = {f"n{i}": HostCounts(ok=1, changed=i) for i in range(5)}
    hosts["n3"].failed = 1
    hosts["n1"].unreachable = 1
    assert host_rows(hosts, limit=10) == [
        ("n1", "1", "1", "0", "1"), ("n3", "1", "3", "1", "0"),
        ("n0", "1", "0", "0", "0"), ("n2", "1", "2", "0", "0"), ("n4", "1", "4", "0", "0")]
    assert host_rows(hosts, limit=3) == [
        ("n1", "1", "1", "0", "1"), ("n3", "1", "3", "1", "0"),
        ("… 3 more hosts", "3", "6", "0", "0")]


def test_host_table_and_stage_lines_are_aligned_text() -> None:
    table = host_table([("node1", "2", "0", "0", "0"), ("n", "10", "1", "1", "0")])
    assert table.plain.splitlines() == [
        "host  ok changed failed unreachable",
        "node1 2  0       0      0",
        "n     10 1       1      0",
    ]
    stages = {"inventory": ["Render the inventory", "succeeded", None, "0.1s"],
              "kubespray": ["Kubespray", "running", 10.0, None], "gpu": ["GPU", "pending", None, None]}
    assert stage_lines(stages, now=12.5).plain.splitlines() == [
        "✓ inventory Render the inventory 0.1s",
        "▶ kubespray Kubespray            2.5s",
        "· gpu       GPU                  ",
    ]


def test_live_view_cost_does_not_grow_with_hosts() -> None:
    def seconds_per_render(hosts: int) -> float:
        display = LiveDisplay(Console(file=io.StringIO(), force_terminal=True, width=100))
        display.close()
        progress = PlaybookProgress("cluster.yml", total_tasks=10)
        progress.hosts = {f"node{i:04d}": HostCounts(ok=i) for i in range(hosts)}
        display.progress = progress
        begun = time.perf_counter()
        for _ in range(20):
            display.console.print(display.render())
        return (time.perf_counter() - begun) / 20

    small, large = seconds_per_render(10), seconds_per_render(2000)
    assert large < small * 5 + 0.01, (small, large)
