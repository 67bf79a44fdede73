"""The typed state module: every file's format, its errors, retention."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deepctl.errors import StateError, UsageError
from deepctl.state import StateDir
from deepctl.state.ledger import LedgerEntry, forget, load_ledger, record_entry
from deepctl.state.pending import load_pending, set_pending
from deepctl.state.record import start_run
from deepctl.state.retention import RunInfo, keep_from_env, prune_runs, runs_to_prune
from deepctl.state.runs import list_runs
from deepctl.state.taskcounts import load_task_counts, save_task_count


def test_ledger_round_trip_and_keys(tmp_path: Path) -> None:
    state = StateDir(tmp_path).create()
    assert load_ledger(state) == {}
    record_entry(state, "kubespray", LedgerEntry("h1", "t", "r1"))
    record_entry(state, "add-node/scale", LedgerEntry("h2", "t", "r2"))
    record_entry(state, "kubeconfig", LedgerEntry("h3", "t", "r2", by="add-node/scale"))
    assert load_ledger(state) == {
        "kubespray": LedgerEntry("h1", "t", "r1"),
        "add-node/scale": LedgerEntry("h2", "t", "r2"),
        "kubeconfig": LedgerEntry("h3", "t", "r2", by="add-node/scale")}
    forget(state, prefix="add-node/")
    assert set(load_ledger(state)) == {"kubespray", "kubeconfig"}
    forget(state)
    assert load_ledger(state) == {}


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '{"version": "x"}',
                                  '{"version": 1, "stages": {"a": {"inputs_hash": "h"}}}'])
def test_a_corrupt_ledger_is_an_error_naming_the_file_and_the_way_out(tmp_path: Path,
                                                                       text: str) -> None:
    state = StateDir(tmp_path).create()
    state.ledger_file.write_text(text)
    with pytest.raises(StateError) as raised:
        load_ledger(state)
    assert str(state.ledger_file) in raised.value.message
    assert raised.value.hint is not None and f"remove {state.ledger_file}" in raised.value.hint


def test_a_ledger_from_a_newer_deepctl_is_refused(tmp_path: Path) -> None:
    state = StateDir(tmp_path).create()
    state.ledger_file.write_text(json.dumps({"version": 99, "stages": {}}))
    with pytest.raises(StateError, match="written by a newer deepctl"):
        load_ledger(state)


def test_files_of_the_previous_format_are_read(tmp_path: Path) -> None:
    state = StateDir(tmp_path).create()
    state.pending_file.write_text(json.dumps({"wk2": {"since": "t", "entry": {"name": "wk2"}}}))
    state.task_counts_file.write_text(json.dumps({"cluster.yml": 699}))
    assert load_pending(state) == {"wk2": {"since": "t", "entry": {"name": "wk2"}}}
    assert load_task_counts(state) == {"cluster.yml": 699}
    set_pending(state, "wk2", None)
    save_task_count(state, "scale.yml@wk2", 300)
    assert load_pending(state) == {}
    assert load_task_counts(state) == {"cluster.yml": 699, "scale.yml@wk2": 300}
    assert json.loads(state.pending_file.read_text())["version"] == 1


def test_runs_to_prune_keeps_newest_and_last_good_per_command() -> None:
    runs = [RunInfo("r6", "deploy", "failed"), RunInfo("r5", "deploy", "failed"),
            RunInfo("r4", "add-node", "running"), RunInfo("r3", "deploy", "succeeded"),
            RunInfo("r2", "reset", "succeeded"), RunInfo("r1", "deploy", "succeeded")]
    assert runs_to_prune(runs, 2) == ["r1"]  # r3/r2: last good; r4: still going
    assert runs_to_prune(runs, 10) == []


def test_prune_runs_deletes_directories(tmp_path: Path) -> None:
    state = StateDir(tmp_path).create()
    spec = tmp_path / "cluster.yaml"
    spec.write_text("x")
    ids = []
    for result in ("succeeded", "failed", "failed", "failed"):
        record = start_run(state, "deploy", spec, "h")
        record.finish(result)  # type: ignore[arg-type]
        ids.append(record.id)
    removed = prune_runs(state, keep=2)
    left = [r.id for r in list_runs(state)]
    assert sorted(p.name for p in removed) == sorted(set(ids) - set(left))
    assert ids[0] in left and len(left) == 3  # the newest 2 and the last successful one


def test_keep_runs_setting() -> None:
    assert keep_from_env({}) == 20
    assert keep_from_env({"DEEPCTL_KEEP_RUNS": "5"}) == 5
    with pytest.raises(UsageError, match="DEEPCTL_KEEP_RUNS"):
        keep_from_env({"DEEPCTL_KEEP_RUNS": "0"})
