"""Failures of the REAL Kubespray v2.31.0, explained: its job events as ansible-runner wrote them
while deepctl ran it on isolated test hosts (tests/fixtures/real-kubespray-events/)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from deepctl.ansible.explain import HIDDEN_MESSAGE, hints
from deepctl.engine.failure_report import failure_lines
from deepctl.engine.progress import HostFailure, PlaybookProgress, RunFailure, apply_event

FIXTURES = Path(__file__).parents[1] / "fixtures" / "real-kubespray-events"
PREINSTALL = "roles/kubernetes/preinstall/tasks/"


def replay(directory: str) -> PlaybookProgress:
    """Fold a run's saved events in the order ansible-runner wrote them (its counter)."""
    def counter(path: Path) -> int:
        return int(path.name.split("-")[1])

    progress = PlaybookProgress("cluster.yml")
    for path in sorted((FIXTURES / directory).glob("*.json"), key=counter):
        event: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        apply_event(progress, event)
    return progress


def by_host(progress: PlaybookProgress) -> dict[str, HostFailure]:
    return {f.host: f for f in progress.failures}


def test_a_missing_ping_names_the_preinstall_check_and_its_command() -> None:
    failures = by_host(replay("preinstall-ping-missing"))
    assert set(failures) == {"kcp1", "kwk1"}
    failure = failures["kcp1"]
    e = failure.explanation
    assert e is not None
    assert (failure.task, failure.message) == (
        "Stop if access_ip is not pingable", "[Errno 2] No such file or directory: b'ping'")
    assert (e.component, e.task_path) == (
        "kubernetes/preinstall", PREINSTALL + "0040-verify-settings.yml:56")
    assert e.details == ("command: ping -c1 192.0.2.2 (exit 2)",)
    lines = failure_lines(RunFailure("kubespray", "cluster.yml failed", (failure,), "/a", "/l"))
    assert lines[1] == (
        "  kcp1: failed at task 'Stop if access_ip is not pingable' (component "
        "kubernetes/preinstall, roles/kubernetes/preinstall/tasks/0040-verify-settings.yml:56): "
        "[Errno 2] No such file or directory: b'ping'")
    assert lines[2] == "    command: ping -c1 192.0.2.2 (exit 2)"


def test_details_say_why_chattr_failed() -> None:
    failures = by_host(replay("preinstall-resolvconf-chattr"))
    failure = failures["kwk1"]
    assert failure.message == "chattr failed"
    assert failure.explanation is not None
    (detail,) = failure.explanation.details
    assert detail.startswith("details: Error while setting attributes: /etc/resolv.conf.")
    assert detail.endswith(": Operation not supported")
    assert failure.explanation.task_path == PREINSTALL + "0060-resolvconf.yml:6"


DOWNLOADS = sorted(p.name for p in FIXTURES.glob("download-*") if p.is_dir())


@pytest.mark.skipif(not DOWNLOADS, reason="no real Kubespray download failure saved yet in "
                    f"{FIXTURES} (tests/integration/test_real_kubespray*.py saves them)")
@pytest.mark.parametrize("directory", DOWNLOADS or ["none"])
def test_a_hidden_download_is_told_with_its_component_and_file(directory: str) -> None:
    progress = replay(directory)
    assert progress.failures
    for failure in progress.failures:
        e = failure.explanation
        assert e is not None
        assert (failure.task, failure.message, e.hidden) == (
            "Download_file | Download item", HIDDEN_MESSAGE, True)
        assert e.task_path is not None
        assert e.task_path.startswith("roles/download/tasks/download_file.yml:")
        assert e.component  # e.g. container-engine/runc
        assert e.file  # Kubespray's file_path_cached, set just before
        assert e.attempts is not None and e.attempts > 1
        (hint, *_) = hints(e, "cluster.yaml", "deepctl deploy cluster.yaml")
        assert "`unsafe_show_logs: true` under spec.kubesprayVars in cluster.yaml" in hint


RUNS = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())


@pytest.mark.parametrize("directory", RUNS)
def test_every_saved_failure_names_component_file_and_what_it_said(directory: str) -> None:
    progress = replay(directory)
    assert progress.failures
    for failure in progress.failures:
        e = failure.explanation
        assert e is not None and e.component, failure
        assert e.task_path and e.task_path.startswith("roles/"), failure
        assert failure.message and failure.message != "failed (no message)", failure
        assert "\n" not in failure.message and "Traceback" not in failure.message
        lines = failure_lines(RunFailure("kubespray", "m", (failure,), "/a", "/l"))
        assert lines[1].startswith(f"  {failure.host}: failed at task {failure.task!r} "
                                   f"(component {e.component}, {e.task_path})")


def test_the_first_real_download_failure_told_in_full() -> None:
    """runc from a mirror where nothing listens (run.txt): the hidden download, its file and
    Kubespray's four retries per host, as a person sees them."""
    progress = PlaybookProgress("cluster.yml")
    notices = []
    directory = FIXTURES / "download-runc-mirror-refused"
    if not directory.is_dir():
        pytest.skip(f"{directory} is not saved yet")
    for path in sorted(directory.glob("*.json"), key=lambda p: int(p.name.split("-")[1])):
        notices.extend(apply_event(progress, json.loads(path.read_text(encoding="utf-8"))))
    retries = [n.text for n in notices if n.kind == "retry" and n.host == "kcp1"]
    assert retries == [
        f"kcp1: Download_file | Download item: attempt {n} of 5 failed (output hidden "
        "(no_log)), retrying" for n in range(1, 5)]
    failure = by_host(progress)["kcp1"]
    e = failure.explanation
    assert e is not None
    assert (e.component, e.task_path, e.file, e.attempts, e.hidden) == (
        "container-engine/runc", "roles/download/tasks/download_file.yml:59",
        "runc-1.4.2.amd64", 5, True)
    assert e.url is None  # not in the events: rendered afterwards (test_kubespray_downloads)


def test_a_hidden_download_names_its_url_on_its_first_retry() -> None:
    """The URL is asked for on the first retry of the hidden download (while Kubespray waits
    before the next attempt), with the file from the host's trail, and shown on each retry."""
    directory = FIXTURES / "download-runc-mirror-refused"
    if not directory.is_dir():
        pytest.skip(f"{directory} is not saved yet")
    asked: list[tuple[str, str]] = []
    url = "http://127.0.0.1:9/mirror/github/opencontainers/runc/releases/download/v1.4.2/runc.amd64"

    def download_url(host: str, file: str) -> str | None:
        asked.append((host, file))
        return url

    progress = PlaybookProgress("cluster.yml")
    notices = []
    for path in sorted(directory.glob("*.json"), key=lambda p: int(p.name.split("-")[1])):
        notices.extend(apply_event(progress, json.loads(path.read_text(encoding="utf-8")),
                                   download_url))
    retries = [n for n in notices if n.kind == "retry" and n.host == "kcp1"]
    assert [n.text for n in retries] == [
        f"kcp1: Download_file | Download item: attempt {n} of 5 failed (output hidden "
        f"(no_log)), retrying; it tried {url}" for n in range(1, 5)]
    assert {(r.retry.file, r.retry.url) for r in retries if r.retry} == {("runc-1.4.2.amd64", url)}
    assert asked and {file for _, file in asked} == {"runc-1.4.2.amd64"}
