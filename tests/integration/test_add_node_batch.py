"""add-node --hosts FILE through the Kubespray stand-in, on real loopback test hosts: a batch
of workers joins in one run, its scale.yml split over two loopback executors (one --limit
slice each, merged into one record); the spec gains every host, comments kept; a failure in
one slice leaves the batch pending and the same command resumes it."""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import pytest
import yaml

from tests.harness import HostFarm, HostProfile, TestHost
from tests.integration.engine_support import deepctl, host_entry, ready_nodes, write_spec
from tests.integration.test_executor import last_run
from tests.integration.test_executor_slices import make_executors, marker_lines, use_executors

pytestmark = pytest.mark.integration

HEADER = "# the lab cluster: keep this comment\n"


def batch_file(tmp_path: Path, farm: HostFarm, hosts: list[TestHost]) -> Path:
    path = tmp_path / "new-workers.yaml"
    path.write_text("# three new workers\n" + yaml.safe_dump(
        [host_entry(h, ["worker"], farm) for h in hosts], sort_keys=False), encoding="utf-8")
    known = tmp_path / ".deepctl" / "lab" / "known_hosts"
    known.write_text(known.read_text() + farm.known_hosts(hosts))
    return path


def spec_names(spec: Path) -> list[str]:
    return [h["name"] for h in yaml.safe_load(spec.read_text())["spec"]["hosts"]]


def test_a_batch_of_workers_joins_with_scale_split_over_two_executors(
        ssh_host_farm: HostFarm, tmp_path: Path) -> None:
    cp1, wk1, wk2, wk3, wk4 = ssh_host_farm.add_many(
        [HostProfile(n) for n in ("cp1", "wk1", "wk2", "wk3", "wk4")])
    ex1, ex2 = make_executors(ssh_host_farm)
    spec = write_spec(tmp_path, ssh_host_farm, {cp1: ["control-plane", "etcd"],
                                                wk1: ["worker"]}, cp1)
    use_executors(spec, ssh_host_farm, [ex1, ex2])
    spec.write_text(HEADER + spec.read_text())
    original = spec.read_text()
    batch = batch_file(tmp_path, ssh_host_farm, [wk2, wk3, wk4])
    ready_nodes(cp1, ["cp1", "wk1", "wk2", "wk3", "wk4"])

    added = deepctl("add-node", str(spec), "--hosts", str(batch), "--yes", "--json",
                    cwd=tmp_path)
    assert added.returncode == 0, added.stdout + added.stderr
    finished = json.loads(added.stdout.splitlines()[-1])
    assert finished["event"] == "run_finished" and finished["nodes"] == ["wk2", "wk3", "wk4"]
    # each executor ran only its slice of scale.yml; the old hosts only had facts read
    assert marker_lines(tmp_path, "wk2") == ["facts.yml limit=wk1,wk2", "scale.yml limit=wk2,wk3"]
    assert marker_lines(tmp_path, "wk3") == ["facts.yml limit=wk3,wk4", "scale.yml limit=wk2,wk3"]
    assert marker_lines(tmp_path, "wk4") == ["facts.yml limit=wk3,wk4", "scale.yml limit=wk4"]
    assert marker_lines(tmp_path, "wk1") == ["facts.yml limit=wk1,wk2"]
    assert marker_lines(tmp_path, "cp1") == ["facts.yml limit=cp1"]
    artifacts = last_run(tmp_path) / "ansible" / "scale" / "artifacts"
    for ident, executor, hosts in (("scale-slice1", ex1, {"wk2", "wk3"}),
                                   ("scale-slice2", ex2, {"wk4"})):
        sent = json.loads((artifacts / ident / "executor-transfer.json").read_text())
        assert sent["executor"] == f"executor root@{executor.address}:{executor.port}"
        events = [json.loads(p.read_text()) for p in (artifacts / ident / "job_events").glob("*")]
        assert {e["event_data"]["host"] for e in events if e["event"] == "runner_on_ok"} == hosts
    # the spec gains every new host in one write: comments kept, the old file as .bak
    assert spec_names(spec) == ["cp1", "wk1", "wk2", "wk3", "wk4"]
    ops = difflib.SequenceMatcher(None, original.splitlines(True),
                                  spec.read_text().splitlines(True), autojunk=False).get_opcodes()
    assert [op[0] for op in ops] == ["equal", "insert", "equal"]  # one block inserted
    assert spec.read_text().startswith(HEADER)
    assert (tmp_path / "cluster.yaml.bak").read_text() == original
    pending = json.loads((tmp_path / ".deepctl" / "lab" / "pending-nodes.json").read_text())
    assert pending["nodes"] == {}


def test_a_failed_slice_leaves_the_batch_pending_and_the_same_command_resumes(
        ssh_host_farm: HostFarm, tmp_path: Path) -> None:
    cp1, wk1, wk2, wk3 = ssh_host_farm.add_many(
        [HostProfile(n) for n in ("cp1", "wk1", "wk2", "wk3")])
    ex1, ex2 = make_executors(ssh_host_farm)
    spec = write_spec(tmp_path, ssh_host_farm, {cp1: ["control-plane", "etcd"],
                                                wk1: ["worker"]}, cp1)
    use_executors(spec, ssh_host_farm, [ex1, ex2])
    original = spec.read_text()
    batch = batch_file(tmp_path, ssh_host_farm, [wk2, wk3])
    ready_nodes(cp1, ["cp1", "wk1", "wk2", "wk3"])
    command = ("add-node", str(spec), "--hosts", str(batch), "--yes", "--skip", "preflight")

    # facts first (selected alone), then scale fails on wk3, in the second slice
    facts = deepctl(*command[:-2], "--only", "facts", cwd=tmp_path)
    assert facts.returncode == 0, facts.stdout + facts.stderr
    (tmp_path / "standin" / "fail-hosts").write_text("wk3\n")
    failed = deepctl(*command, cwd=tmp_path)
    assert failed.returncode != 0, failed.stdout + failed.stderr
    assert (f"scale.yml failed in slice 2 of 2 (executor root@{ex2.address}:{ex2.port}, "
            "--limit wk3) on wk3") in failed.stderr
    assert f"resume with: deepctl add-node {spec} --hosts {batch} --yes" in failed.stderr
    assert f"wk2, wk3 are not in {spec}: add-node writes them there" in failed.stderr
    assert spec.read_text() == original  # not joined: the spec is as it was
    pending = json.loads((tmp_path / ".deepctl" / "lab" / "pending-nodes.json").read_text())
    assert {n: p["batch"] for n, p in pending["nodes"].items()} == {
        "wk2": ["wk2", "wk3"], "wk3": ["wk2", "wk3"]}
    assert marker_lines(tmp_path, "wk2")[-1] == "scale.yml limit=wk2"  # its slice finished

    (tmp_path / "standin" / "fail-hosts").unlink()
    again = deepctl(*command, cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "resuming add-node wk2, wk3: they are not in the spec yet and still pending" \
        in again.stdout
    assert "[facts] skipped (up to date)" in again.stdout  # done by the first run
    assert marker_lines(tmp_path, "wk3")[-2:] == ["scale.yml limit=wk3", "scale.yml limit=wk3"]
    assert spec_names(spec) == ["cp1", "wk1", "wk2", "wk3"]
    pending = json.loads((tmp_path / ".deepctl" / "lab" / "pending-nodes.json").read_text())
    assert pending["nodes"] == {}
