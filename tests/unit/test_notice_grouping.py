"""The same RETRY, FAILED or UNREACHABLE on many hosts within a few seconds is one line
(engine/grouping.py, pure), in the plain and live displays; the run log keeps every host's."""

from __future__ import annotations

import io

from rich.console import Console

from deepctl.engine.display import LiveDisplay, PlainDisplay
from deepctl.engine.grouping import NoticeGroup, NoticeGrouper
from deepctl.engine.progress import Notice, PlaybookProgress

RETRY = "Download_file | Download item: attempt 2 of 5 failed (HTTP Error 503), retrying"


def retry(host: str, text: str = RETRY) -> Notice:
    return Notice("retry", f"{host}: {text}", host)


def test_the_same_notice_on_many_hosts_is_one_group() -> None:
    grouper = NoticeGrouper(window=5.0)
    hosts = [f"gpu{i:04d}" for i in range(1, 999)]
    out = []
    for i, host in enumerate(hosts):
        out += grouper.add("kubespray", retry(host), now=100.0 + i / 1000)
    out += grouper.add("kubespray", retry("cp1", "other: attempt 1 of 5 failed"), now=101.0)
    assert out == []  # held: the window is not over
    task = Notice("task", "Download_file | Download item")
    assert grouper.add("kubespray", task, now=102.0) == [
        ("kubespray", NoticeGroup("kubespray", "retry", RETRY, tuple(hosts))),
        ("kubespray", NoticeGroup("kubespray", "retry", "other: attempt 1 of 5 failed",
                                  ("cp1",))),
        ("kubespray", task),
    ]
    assert NoticeGroup("kubespray", "retry", RETRY, tuple(hosts)).line() == (
        f"gpu[0001-0998] (998 hosts): {RETRY}")
    assert NoticeGroup("k", "retry", RETRY, ("cp1",)).line() == f"cp1: {RETRY}"


def test_a_group_is_let_out_when_its_window_is_over() -> None:
    grouper = NoticeGrouper(window=5.0)
    assert grouper.add("k", retry("a1"), now=0.0) == []
    assert grouper.add("k", retry("a2"), now=4.9) == []
    assert grouper.next_due() == 0.0
    late = grouper.add("k", retry("a3"), now=5.0)  # a new group opens for a3
    assert late == [("k", NoticeGroup("k", "retry", RETRY, ("a1", "a2")))]
    assert grouper.due(9.9) == []
    assert grouper.due(10.0) == [("k", NoticeGroup("k", "retry", RETRY, ("a3",)))]
    assert grouper.next_due() is None


def test_different_kinds_and_stages_are_not_mixed() -> None:
    grouper = NoticeGrouper()
    failed = Notice("failed", "n1: Install | apt: no package", "n1")
    grouper.add("kubespray", failed, 0.0)
    grouper.add("kubespray", Notice("unreachable", "n2: unreachable: timeout", "n2"), 0.0)
    grouper.add("reset", Notice("failed", "n3: Install | apt: no package", "n3"), 0.0)
    assert [(s, g.kind, g.hosts) for s, g in grouper.flush()] == [  # type: ignore[union-attr]
        ("kubespray", "failed", ("n1",)), ("kubespray", "unreachable", ("n2",)),
        ("reset", "failed", ("n3",))]


def test_plain_lines_say_a_retry_on_998_hosts_once() -> None:
    out = io.StringIO()
    now = [0.0]
    display = PlainDisplay(out, clock=lambda: now[0])
    progress = PlaybookProgress("cluster.yml")
    display.playbook_event("kubespray", progress, [Notice("task", "Download item")])
    for i in range(1, 999):
        display.playbook_event("kubespray", progress, [retry(f"gpu{i:04d}")])
    display.playbook_event("kubespray", progress, [Notice("task", "Next task")])
    display.close()
    lines = [line.split(" ", 1)[1] for line in out.getvalue().splitlines()]
    assert lines == [
        "[kubespray] TASK Download item",
        f"[kubespray] RETRY gpu[0001-0998] (998 hosts): {RETRY}",
        "[kubespray] TASK Next task",
    ]


def test_the_live_view_prints_one_line_for_a_failure_on_many_hosts() -> None:
    console = Console(file=io.StringIO(), width=200, force_terminal=False)
    live = LiveDisplay(console)
    progress = PlaybookProgress("cluster.yml")
    try:
        for i in range(1, 401):
            host = f"gpu{i:04d}"
            live.playbook_event("kubespray", progress,
                                [Notice("failed", f"{host}: Install | apt: no package", host)])
    finally:
        live.close()
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "failed gpu[0001-0400] (400 hosts): Install | apt: no package" in text
    assert "gpu0002: Install" not in text
