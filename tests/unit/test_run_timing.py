"""The per-run timing report (issue 24): ansible-runner's events -> each task's wall time
-> the slowest stages, roles and tasks, recorded in the run's typed ``state.json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from deepctl.engine.task_clock import TaskClock, task_times
from deepctl.errors import StateError
from deepctl.state.paths import StateDir
from deepctl.state.record import start_run
from deepctl.state.run_state import RunState, StageState
from deepctl.state.runs import list_runs, read_state
from deepctl.state.timing import TaskTime, Timed, TimingReport, timing_report


def event(kind: str, second: float, role: str | None = None, task: str | None = None,
          host: str | None = None) -> dict[str, Any]:
    minutes, seconds = divmod(second, 60)
    data: dict[str, Any] = {"role": role, "task": task}
    if host:
        data["host"] = host
    return {"event": kind, "created": f"2026-12-07T21:{int(minutes):02d}:{seconds:06.3f}",
            "event_data": data}


EVENTS = [
    event("playbook_on_start", 0),
    event("playbook_on_play_start", 0.5),
    event("playbook_on_task_start", 1, "kubernetes/preinstall", "Install packages"),
    event("runner_on_ok", 30, "kubernetes/preinstall", "Install packages", "cp1"),
    event("runner_on_ok", 41, "kubernetes/preinstall", "Install packages", "wk1"),
    event("playbook_on_task_start", 41, "download", "Download_file | Download item"),
    event("runner_on_ok", 161, "download", "Download_file | Download item", "cp1"),
    event("playbook_on_play_start", 161),
    event("playbook_on_task_start", 162, None, "Set up the stand-in"),
    event("runner_on_ok", 163, None, "Set up the stand-in", "cp1"),
    event("playbook_on_task_start", 163, "kubernetes/preinstall", "Install packages"),
    event("runner_on_ok", 168, "kubernetes/preinstall", "Install packages", "cp1"),
    event("playbook_on_stats", 170),
]


def test_each_task_runs_from_its_start_to_what_starts_next() -> None:
    assert task_times(EVENTS) == [
        TaskTime("kubernetes/preinstall", "Install packages", 40.0),
        TaskTime("download", "Download_file | Download item", 120.0),
        TaskTime("", "Set up the stand-in", 1.0),
        TaskTime("kubernetes/preinstall", "Install packages", 7.0),
    ]


def test_a_run_cut_short_ends_its_last_task_at_the_last_event() -> None:
    cut = EVENTS[:7]  # canceled during the download
    assert task_times(cut)[-1] == TaskTime("download", "Download_file | Download item", 120.0)
    assert task_times([{"event": "playbook_on_task_start"}]) == []  # no time: nothing


def test_the_clock_keeps_one_event_per_task_and_agrees_with_the_pure_function() -> None:
    clock = TaskClock()
    for item in EVENTS[:7]:
        clock.see(item)
    assert clock.times() == task_times(EVENTS[:7])
    assert len(clock._marks) == 3  # the play and two task starts, no per-host event


def test_the_report_sums_a_task_over_plays_and_ranks_slowest_first() -> None:
    report = timing_report(
        [("preflight", 3.0), ("inventory", None), ("kubespray", 171.2), ("verify", 9.5)],
        {"kubespray": task_times(EVENTS)}, top=2)
    assert report == TimingReport(
        stages=(Timed("kubespray", 171.2), Timed("verify", 9.5)),
        roles=(Timed("download", 120.0, "kubespray"),
               Timed("kubernetes/preinstall", 47.0, "kubespray")),
        tasks=(Timed("download : Download_file | Download item", 120.0, "kubespray"),
               Timed("kubernetes/preinstall : Install packages", 47.0, "kubespray")))
    assert report.lines() == [
        "slowest stage: kubespray 171.2 s",
        "slowest stage: verify 9.5 s",
        "slowest role: download (kubespray) 120.0 s",
        "slowest role: kubernetes/preinstall (kubespray) 47.0 s",
        "slowest task: download : Download_file | Download item (kubespray) 120.0 s",
        "slowest task: kubernetes/preinstall : Install packages (kubespray) 47.0 s",
    ]
    assert TimingReport.from_json(json.loads(json.dumps(report.to_json()))) == report


def test_a_finished_run_records_its_timing_and_runs_shows_it(tmp_path: Path) -> None:
    state = StateDir(tmp_path / "state").create()
    spec = tmp_path / "cluster.yaml"
    spec.write_text("x: 1\n")
    record = start_run(state, "deploy", spec, "h")
    record.set_stage("kubespray", "running", inputs_hash="abc")
    record.add_task_times("kubespray", task_times(EVENTS))
    record.set_stage("kubespray", "succeeded", duration_s=171.2)
    record.set_stage("kubeconfig", "skipped", reason="up to date")
    record.finish("succeeded")
    run = read_state(record.dir)
    assert run.stages["kubespray"] == StageState(
        "succeeded", run.stages["kubespray"].started_at, run.stages["kubespray"].finished_at,
        171.2, "abc", tasks=task_times(EVENTS))
    assert run.stages["kubeconfig"] == StageState("skipped", reason="up to date")
    assert run.timing is not None and run.timing.stages == (Timed("kubespray", 171.2),)
    assert run.timing.tasks[0] == Timed("download : Download_file | Download item", 120.0,
                                        "kubespray")
    assert list_runs(state)[0].timing == run.timing == record.timing


# state.json as deepctl wrote it before the record was typed (schema version 1)
OLD = {
    "version": 1, "id": "20261201T100000Z-deploy-ab12", "command": "deploy",
    "args": {"from": None, "only": [], "skip": ["preflight"], "restart": False},
    "spec_path": "/srv/cluster.yaml", "spec_hash": "h1", "started_at": "2026-12-01T10:00:00Z",
    "started_ns": 1764583200000000000, "finished_at": "2026-12-01T10:20:00Z",
    "duration_s": 1200.5, "result": "failed", "failed_stage": "kubespray", "pid": 4242,
    "host": "admin", "error": "cluster.yml failed on wk1",
    "stages": {"kubespray": {"status": "failed", "started_at": "2026-12-01T10:00:05Z",
                             "finished_at": "2026-12-01T10:20:00Z", "duration_s": 1195.0,
                             "inputs_hash": "k1", "error": "cluster.yml failed on wk1"},
               "inventory": {"status": "skipped", "reason": "up to date"}},
    "stage_order": ["inventory", "kubespray"],
}


def test_a_record_of_the_earlier_format_reads_into_fields_and_back(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "state.json").write_text(json.dumps(OLD))
    run = read_state(run_dir)
    assert run == RunState(
        id="20261201T100000Z-deploy-ab12", command="deploy", spec_path="/srv/cluster.yaml",
        spec_hash="h1", started_at="2026-12-01T10:00:00Z", args=OLD["args"],
        started_ns=1764583200000000000, finished_at="2026-12-01T10:20:00Z", duration_s=1200.5,
        result="failed", failed_stage="kubespray", error="cluster.yml failed on wk1",
        pid=4242, host="admin",
        stages={"inventory": StageState("skipped", reason="up to date"),
                "kubespray": StageState("failed", "2026-12-01T10:00:05Z",
                                        "2026-12-01T10:20:00Z", 1195.0, "k1",
                                        error="cluster.yml failed on wk1")})
    assert list(run.stages) == ["inventory", "kubespray"]  # the run's order, not sorted
    assert {"version": 1, **run.to_json()} == OLD  # written back the same: one format


def test_a_malformed_record_is_a_state_error(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    bad = {**OLD, "stages": {"kubespray": {"status": "exploded"}}}
    (run_dir / "state.json").write_text(json.dumps(bad))
    with pytest.raises(StateError, match=r"unreadable run state .*unknown stage status"):
        read_state(run_dir)
