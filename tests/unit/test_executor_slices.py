"""spec.executors: the spec rule, the targets (primary first), the slicing of hosts (pure),
the merge of several slices' events into one progress, and the facts each slice brings back."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from deepctl.engine.progress import PlaybookProgress, apply_event
from deepctl.engine.slices import _merged, merged_stats
from deepctl.engine.task_clock import TaskClock
from deepctl.executor.slices import Slice, SlicePlan, balanced, plan_slices
from deepctl.executor.target import executor_targets, with_executor
from tests.unit.test_executor_target import cluster, workspace
from tests.unit.test_spec_rules import ONE_HOST, Expect, assert_one, load, problems

TWO = "  executors:\n    - {address: 10.0.0.5}\n    - {address: 10.0.0.6, user: runner}\n"


def test_executor_and_executors_together_are_refused_at_the_line_of_executors() -> None:
    found = problems(ONE_HOST + "  executor: {address: 10.0.0.4}\n" + TWO)
    assert_one(found, Expect(13, 5, "spec.executors", "spec.executor and spec.executors are "
                             "both set"))


def test_each_executor_is_validated_like_spec_executor() -> None:
    found = problems(ONE_HOST + "  executors:\n    - {address: 10.0.0.5}\n"
                     "    - {address: 'a b', port: 70000}\n    - {address: 10.0.0.5}\n")
    assert_one(found, Expect(13, 17, "spec.executors[1].address", "neither an IP address"))
    assert_one(found, Expect(13, 30, "spec.executors[1].port", "less than or equal to 65535"))
    assert_one(found, Expect(14, 17, "spec.executors[2].address",
                             "listed twice in spec.executors (entries 0 and 2)"))
    assert_one(problems(ONE_HOST + "  executors: []\n"),
               Expect(11, 14, "spec.executors", "at least 1 item"))
    load(ONE_HOST + TWO)  # valid


def test_executors_targets_keep_the_order_the_first_is_the_primary() -> None:
    c = cluster("  ssh: {user: deploy}\n" + TWO)
    targets = executor_targets(c, Path("/k"), Path("/specs"))
    assert [(t.login.address, t.login.user) for t in targets] == [
        ("10.0.0.5", "deploy"), ("10.0.0.6", "runner")]
    assert executor_targets(cluster(""), Path("/k")) == []


def test_executor_option_runs_everything_on_that_one_executor() -> None:
    ws = with_executor(workspace(TWO), "10.0.0.9")
    assert ws.cluster.spec.executors is None
    assert ws.cluster.spec.executor is not None
    assert ws.cluster.spec.executor.address == "10.0.0.9"


def test_balanced_slices_are_contiguous_and_differ_by_one_at_most() -> None:
    hosts = [f"w{i}" for i in range(1, 8)]
    assert balanced(hosts, 3) == [("w1", "w2", "w3"), ("w4", "w5"), ("w6", "w7")]
    assert balanced(hosts[:2], 3) == [("w1",), ("w2",)]  # no empty slice
    assert balanced([], 3) == []
    assert balanced(hosts, 1) == [tuple(hosts)]


def test_control_plane_and_etcd_are_never_sliced() -> None:
    plan = plan_slices(["cp1", "w1", "e1", "w2", "w3", "w1"], {"cp1", "e1"}, 2)
    assert plan == SlicePlan(Slice(0, ("cp1", "e1")), (Slice(0, ("w1", "w2")), Slice(1, ("w3",))))
    assert plan.slices[0].limit == "w1,w2"
    assert plan_slices(["w1", "w2"], {"cp1"}, 2).pinned is None
    assert plan_slices(["cp1"], {"cp1"}, 2) == SlicePlan(Slice(0, ("cp1",)), ())
    # deterministic: the same input, the same slices
    many = [f"gpu{i:03}" for i in range(1, 101)]
    first = plan_slices(many, set(), 3)
    assert first == plan_slices(many, set(), 3)
    assert [len(s.hosts) for s in first.slices] == [34, 33, 33]
    assert first.slices[1].hosts[0] == "gpu035"


def events(host: str) -> list[dict[str, Any]]:
    return [{"event": "playbook_on_play_start", "event_data": {"play": "Upgrade"}},
            {"event": "playbook_on_task_start", "event_data": {"task": "Drain"}},
            {"event": "runner_on_ok", "event_data": {"host": host, "res": {"changed": True}}},
            {"event": "playbook_on_task_start", "event_data": {"task": "Upgrade kubelet"}},
            {"event": "runner_on_failed", "event_data": {"host": host, "task": "Upgrade kubelet",
                                                         "res": {"msg": "boom"}}}]


def test_slices_merge_into_one_progress_each_task_once_hosts_kept() -> None:
    progress = PlaybookProgress("upgrade-cluster.yml")
    shown: list[str] = []

    def inner(event: dict[str, Any]) -> None:
        shown.extend(n.text for n in apply_event(progress, event))

    started = [0, 0]
    lock = threading.Lock()
    one, two = (_merged(k, inner, TaskClock(), started, lock) for k in (0, 1))
    a, b = events("w1"), events("w2")
    for event in (a[0], a[1], b[0], b[1], a[2], b[2], b[3], b[4], a[3], a[4]):
        (one if any(event is e for e in a) else two)(event)
    assert progress.tasks_started == 2  # not 4: both slices ran the same two tasks
    assert shown.count("Drain") == 1 and shown.count("Upgrade kubelet") == 1
    assert set(progress.hosts) == {"w1", "w2"} and progress.hosts["w2"].changed == 1
    assert [f.host for f in progress.failures] == ["w2", "w1"]


def test_merged_stats_keep_every_slices_hosts() -> None:
    assert merged_stats([{"ok": {"w1": 3}, "failures": {}}, {"ok": {"w2": 2},
                                                            "failures": {"w2": 1}}]) == {
        "ok": {"w1": 3, "w2": 2}, "failures": {"w2": 1}}


@pytest.mark.parametrize("changed", [True, False])
def test_a_slice_brings_back_only_the_facts_it_changed(tmp_path: Path, changed: bool) -> None:
    """Two slices take the same fact cache; the one that ends last must not put back the
    other slice's hosts' facts as they were sent."""
    from deepctl.executor.job import JobBuilder, sent_digests

    sent = tmp_path / "sent" / "artifacts" / "facts-slice1"
    (sent / "fact_cache").mkdir(parents=True)
    (sent / "fact_cache" / "w2").write_text("old w2")
    (sent / "fact_cache" / "w1").write_text("old w1")
    digests = sent_digests(sent)
    back = tmp_path / "back"
    (back / "fact_cache").mkdir(parents=True)
    (back / "fact_cache" / "w2").write_text("old w2")  # untouched by this slice
    (back / "fact_cache" / "w1").write_text("new w1" if changed else "old w1")
    state_cache = tmp_path / "state" / "facts-cache"
    state_cache.mkdir(parents=True)
    (state_cache / "w2").write_text("new w2 from the other slice")
    builder = JobBuilder.__new__(JobBuilder)
    builder.state = type("S", (), {"fact_cache": state_cache, "artifacts_dir": tmp_path / "a",
                                   "credentials_dir": tmp_path / "c"})()  # type: ignore[assignment]
    builder._collect(back, digests)
    assert (state_cache / "w2").read_text() == "new w2 from the other slice"
    assert (state_cache / "w1").exists() is changed
    if changed:
        assert (state_cache / "w1").read_text() == "new w1"
        assert (state_cache / "w1").stat().st_mode & 0o077 == 0


class SpreadRecorder:
    """Records each playbook a stage asks for, with its limit and spread (the one boundary)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None, list[str] | None]] = []

    def run(self, stage: str, playbook: str, *, limit: str | None = None,
            extravars: dict[str, Any] | None = None, on_event: Any = None,
            spread: Any = None) -> object:
        self.calls.append((playbook, limit, None if spread is None else list(spread)))
        return None


def stage_calls(stage_name: str, stages: list[Any], body: str) -> list[Any]:
    from types import SimpleNamespace

    c = cluster("  executors: [{address: 10.0.0.5}, {address: 10.0.0.6}]\n" + body
                if "executor" not in body else body)
    runner = SpreadRecorder()
    stage = next(s for s in stages if s.name == stage_name)
    stage.run(SimpleNamespace(ansible=runner, cluster=c, ws=SimpleNamespace(
        state=None, cluster=c, spec=SimpleNamespace(path=Path("/specs/cluster.yaml")))))
    return runner.calls


def test_upgrade_with_several_executors_refreshes_facts_then_spreads_every_host() -> None:
    from deepctl.stages.sequences import upgrade_stages

    calls = stage_calls("upgrade", upgrade_stages("1.35.4"), "")
    assert calls == [("playbooks/facts.yml", None, ["cp1"]),
                     ("upgrade-cluster.yml", None, ["cp1"])]
    one = stage_calls("upgrade", upgrade_stages("1.35.4"), "  executor: {address: 10.0.0.5}\n")
    assert one == [("upgrade-cluster.yml", None, ["cp1"])]  # one executor: as before


def test_add_nodes_facts_are_spread_over_every_host() -> None:
    from deepctl.stages.sequences import add_node_stages

    calls = stage_calls("facts", add_node_stages("cp1", ["worker"]), "")
    assert calls == [("playbooks/facts.yml", None, ["cp1"])]
