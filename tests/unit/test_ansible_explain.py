"""Failures and retries told from REAL Ansible events.

``tests/fixtures/ansible-events/events.json`` is the event stream of a real ansible-runner run
of ``tests/fixtures/ansible-events/playbook`` on local connections (regenerate it with
``capture.py`` beside it): a no_log download to a loopback URL where nothing listens (host
``hidden``), the same download with ``unsafe_show_logs`` (``shown``), an assert
(``asserted``), a retried command (``retried``) and a loop with a failed item (``looped``).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from deepctl.ansible.explain import HIDDEN_MESSAGE, HostTrail, explain, hints, observe, safe_url
from deepctl.clusterspec.loader import load_spec_text
from deepctl.engine.display import JsonDisplay, LiveDisplay, PlainDisplay
from deepctl.engine.failure_report import failure_lines
from deepctl.engine.progress import Notice, PlaybookProgress, RunFailure, apply_event
from tests.specs import MINIMAL_SPEC

EVENTS = Path(__file__).parents[1] / "fixtures" / "ansible-events" / "events.json"
URL = "http://127.0.0.1:9/files/tool/releases/download/v1.0.0/tool.amd64"
DOWNLOAD = "Download_file | Download item"


def real_events() -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = json.loads(EVENTS.read_text(encoding="utf-8"))
    return events


def folded() -> tuple[PlaybookProgress, list[Notice]]:
    progress = PlaybookProgress("site.yml")
    notices: list[Notice] = []
    for event in real_events():
        notices.extend(apply_event(progress, event))
    return progress, notices


def failure_of(progress: PlaybookProgress, host: str) -> Any:
    (failure,) = [f for f in progress.failures if f.host == host]
    return failure


def test_a_hidden_download_names_component_file_attempts_and_how_to_show_it() -> None:
    progress, _ = folded()
    failure = failure_of(progress, "hidden")
    e = failure.explanation
    assert (failure.task, failure.message) == (DOWNLOAD, HIDDEN_MESSAGE)
    assert (e.component, e.task_path) == (
        "fixture-engine/tool", "roles/fixture-download/tasks/download_file.yml:6")
    assert (e.hidden, e.file, e.url, e.attempts) == (True, "tool-v1.0.0.amd64", None, 3)
    assert failure.stderr_tail == ()
    report = RunFailure("kubespray", "site.yml failed on hidden (rc 2)", (failure,), "/a", "/l",
                        "deepctl deploy /specs/c.yaml", "/specs/c.yaml")
    assert failure_lines(report) == [
        "stage kubespray failed: site.yml failed on hidden (rc 2)",
        "  hidden: failed at task 'Download_file | Download item' (component "
        "fixture-engine/tool, roles/fixture-download/tasks/download_file.yml:6) after 3 "
        "attempts: Kubespray hides this task's output (no_log)",
        "    file: tool-v1.0.0.amd64",
        "hint: to see this task's output, set `unsafe_show_logs: true` under "
        "spec.kubesprayVars in /specs/c.yaml, then run `deepctl deploy /specs/c.yaml` "
        "(remove it afterwards: it also shows passwords)",
        "log: /l",
        "ansible artifacts: /a",
        "resume with: deepctl deploy /specs/c.yaml",
    ]


def test_the_hint_to_show_hidden_output_passes_validation() -> None:
    spec = MINIMAL_SPEC + "  kubesprayVars:\n    unsafe_show_logs: true\n"
    loaded = load_spec_text(spec, Path("/specs/c.yaml"))
    assert loaded.warnings == []
    assert loaded.cluster.spec.kubespray_vars == {"unsafe_show_logs": True}


def test_a_shown_download_gives_the_url_it_tried() -> None:
    progress, _ = folded()
    failure = failure_of(progress, "shown")
    e = failure.explanation
    assert failure.message == "Request failed: <urlopen error [Errno 111] Connection refused>"
    assert (e.url, e.hidden, e.attempts) == (URL, False, 3)
    lines = failure_lines(RunFailure("k", "m", (failure,), "/a", "/l", None, "/s.yaml"))
    assert f"    url: {URL}" in lines
    assert any(line.startswith(f"hint: {URL} is what the host tried to fetch") for line in lines)


def test_an_assert_shows_its_condition() -> None:
    progress, notices = folded()
    failure = failure_of(progress, "asserted")
    assert failure.message == 'assertion failed: fixture_service_mgr == "systemd"'
    assert failure.explanation.condition == 'fixture_service_mgr == "systemd"'
    assert ("asserted: Checks | Stop if non systemd OS type [fixture-checks]: assertion failed: "
            'fixture_service_mgr == "systemd"') in [n.text for n in notices]


def test_a_failed_command_keeps_its_stderr_and_attempts() -> None:
    progress, _ = folded()
    failure = failure_of(progress, "retried")
    assert failure.message == "non-zero return code"
    assert failure.stderr_tail == ("error: connection refused on 127.0.0.1:9",)
    assert failure.explanation.attempts == 3


def test_a_loop_names_its_failed_items() -> None:
    progress, _ = folded()
    failure = failure_of(progress, "looped")
    assert failure.message == "One or more items failed"
    assert failure.explanation.details == ("item broken: non-zero return code",)
    assert failure.explanation.attempts is None


def test_retries_are_notices_with_attempt_n_of_m() -> None:
    _, notices = folded()
    retries = [n.text for n in notices if n.kind == "retry"]
    assert retries == [
        f"hidden: {DOWNLOAD}: attempt 1 of 3 failed (output hidden (no_log)), retrying",
        f"shown: {DOWNLOAD}: attempt 1 of 3 failed (Request failed: <urlopen error [Errno 111] "
        "Connection refused>), retrying",
        f"hidden: {DOWNLOAD}: attempt 2 of 3 failed (output hidden (no_log)), retrying",
        f"shown: {DOWNLOAD}: attempt 2 of 3 failed (Request failed: <urlopen error [Errno 111] "
        "Connection refused>), retrying",
        "retried: Checks | Wait for the service to answer: attempt 1 of 3 failed (non-zero "
        "return code), retrying",
        "retried: Checks | Wait for the service to answer: attempt 2 of 3 failed (non-zero "
        "return code), retrying",
    ]


def _replay(display: Any, stop_after: str | None = None) -> PlaybookProgress:
    progress = PlaybookProgress("site.yml")
    for event in real_events():
        notices = apply_event(progress, event)
        if notices:
            display.playbook_event("kubespray", progress, notices)
        if stop_after and event.get("event") == stop_after:
            break
    return progress


def test_plain_and_json_output_show_retries() -> None:
    plain = io.StringIO()
    display = PlainDisplay(plain)
    _replay(display)
    display.close()  # what is held for grouping is said
    lines = [line.split(" ", 1)[1] for line in plain.getvalue().splitlines()]
    assert (f"[kubespray] RETRY hidden: {DOWNLOAD}: attempt 2 of 3 failed (output hidden "
            "(no_log)), retrying") in lines
    assert (f"[kubespray] FAILED hidden: {DOWNLOAD} [fixture-engine/tool]: "
            f"{HIDDEN_MESSAGE}") in lines
    out = io.StringIO()
    _replay(JsonDisplay(out))
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    retry = next(e for e in events if e["event"] == "retry")
    assert {k: retry[k] for k in ("host", "task", "attempt", "attempts")} == {
        "host": "hidden", "task": DOWNLOAD, "attempt": 1, "attempts": 3}
    failed = next(e for e in events if e["event"] == "failed" and e["host"] == "shown")
    assert (failed["url"], failed["attempts"], failed["hidden"]) == (URL, 3, False)


def test_the_live_view_shows_a_retry_under_way() -> None:
    console = Console(file=io.StringIO(), width=200, force_terminal=False)
    live = LiveDisplay(console)
    try:
        progress = _replay(live, stop_after="runner_retry")
        assert set(progress.retrying) == {"hidden"}
        out = Console(file=io.StringIO(), width=200)
        out.print(live.render())
        text = out.file.getvalue()  # type: ignore[attr-defined]
    finally:
        live.close()
    assert (f"retrying hidden: {DOWNLOAD}: attempt 1 of 3 failed (output hidden (no_log))"
            in text)


def test_a_retry_ends_when_the_host_moves_on() -> None:
    progress, _ = folded()
    assert progress.retrying == {}


@pytest.mark.parametrize(("url", "shown"), [
    ("https://user:secret@mirror.example/files/x", "https://mirror.example/files/x"),
    ("http://127.0.0.1:9/files/x", "http://127.0.0.1:9/files/x"),
])
def test_urls_never_show_credentials(url: str, shown: str) -> None:
    assert safe_url(url) == shown


def test_a_trail_belongs_to_one_pass_through_one_file() -> None:
    trail = HostTrail()
    first = {"task_path": "/k/roles/download/tasks/download_file.yml:9",
             "res": {"msg": "https://example.org/runc.amd64"}}
    observe(trail, first)
    assert trail.url == "https://example.org/runc.amd64"
    observe(trail, {"task_path": "/k/roles/download/tasks/download_file.yml:2", "res": {}})
    assert trail.url is None  # the file was included again: the next download
    hidden = explain({"task": DOWNLOAD, "res": {"censored": "hidden", "attempts": 4}}, trail)
    assert (hidden.url, hidden.attempts, hidden.hidden) == (None, 5, True)


def test_the_failure_panel_and_run_failed_event_carry_the_explanation() -> None:
    progress, _ = folded()
    report = RunFailure("kubespray", "site.yml failed", tuple(progress.failures), "/a", "/l",
                        "deepctl deploy /s.yaml", "/s.yaml")
    console = Console(file=io.StringIO(), width=300, force_terminal=False)
    live = LiveDisplay(console)
    live.failure(report)
    panel = console.file.getvalue()  # type: ignore[attr-defined]
    assert "kubespray failed" in panel
    assert "condition" not in panel  # the assert's condition is in its message already
    assert 'assertion failed: fixture_service_mgr == "systemd"' in panel
    assert "item broken: non-zero return code" in panel
    assert "| error: connection refused on 127.0.0.1:9" in panel
    out = io.StringIO()
    JsonDisplay(out).failure(report)
    event = json.loads(out.getvalue())
    assert event["event"] == "run_failed"
    assert {f["host"]: f["hidden"] for f in event["failures"]} == {
        "hidden": True, "shown": False, "asserted": False, "retried": False, "looped": False}


def test_only_downloads_get_the_mirror_hint() -> None:
    api = explain({"task": "Wait for the API", "resolved_action": "ansible.builtin.uri",
                   "res": {"msg": "Status code was -1", "url": "https://127.0.0.1:6443/healthz"}})
    assert api.url == "https://127.0.0.1:6443/healthz"
    assert hints(api, "/s.yaml") == []
    progress, _ = folded()
    shown = failure_of(progress, "shown").explanation
    assert shown.action == "ansible.builtin.get_url" and shown.download
    assert hints(shown, "/s.yaml")[0].startswith(URL)
