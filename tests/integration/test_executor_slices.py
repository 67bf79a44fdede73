"""spec.executors: two loopback executors split the workers of an upgrade into one --limit
slice each, run at the same time, merged into one progress and one run record; the control
plane goes first, on the primary. A failure in one slice fails the run naming the slice, its
executor and the host; the other slice finishes; the same command then resumes."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.harness import HostFarm, HostProfile, TestHost
from tests.integration.engine_support import (
    DEEPCTL,
    deepctl,
    ready_nodes,
    run_state,
    wait_for,
    write_spec,
)
from tests.integration.test_deploy_cancel import processes_mentioning
from tests.integration.test_executor import TOOLS, VENV_BIN, last_run

pytestmark = pytest.mark.integration


def make_executors(farm: HostFarm) -> list[TestHost]:
    executors = farm.add_many([HostProfile("exec1", tcp_forwarding=True),
                                HostProfile("exec2", tcp_forwarding=True)])
    for executor in executors:
        for tool in TOOLS:
            (executor.bin_dir / tool).symlink_to(VENV_BIN / tool)
    return executors


def use_executors(spec: Path, farm: HostFarm, executors: list[TestHost]) -> None:
    data = yaml.safe_load(spec.read_text(encoding="utf-8"))
    data["spec"]["executors"] = [{"address": e.address, "port": e.port} for e in executors]
    spec.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    known = spec.parent / ".deepctl" / "lab" / "known_hosts"
    known.write_text(known.read_text(encoding="ascii") + farm.known_hosts(executors),
                     encoding="ascii")


def marker_lines(tmp_path: Path, host: str) -> list[str]:
    """``PLAYBOOK limit=LIMIT`` of each stand-in run on ``host``."""
    path = tmp_path / "standin" / "markers" / f"{host}.log"
    return [" ".join(line.split()[:2]) for line in path.read_text().splitlines() if line]


def playbook_on(executor: TestHost, limit: str) -> bool:
    jobs = str(executor.dir / "home" / ".cache" / "deepctl" / "jobs")
    return any("ansible-playbook" in p and f"--limit {limit}" in p
               for p in processes_mentioning(jobs))


def test_upgrade_splits_the_workers_over_two_executors(ssh_host_farm: HostFarm,
                                                        tmp_path: Path) -> None:
    cp1, wk1, wk2, wk3 = ssh_host_farm.add_many(
        [HostProfile("cp1"), HostProfile("wk1"), HostProfile("wk2"), HostProfile("wk3")])
    ex1, ex2 = make_executors(ssh_host_farm)
    spec = write_spec(tmp_path, ssh_host_farm,
                      {cp1: ["control-plane", "etcd"], wk1: ["worker"], wk2: ["worker"],
                       wk3: ["worker"]}, cp1, kube_version="1.34.7")
    use_executors(spec, ssh_host_farm, [ex1, ex2])

    # every executor is checked, each under its own name
    checked = deepctl("executor", "check", str(spec), "--json", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    names = {c["check"] for c in json.loads(checked.stdout)["checks"]}
    assert {"executors[0].ssh", "executors[1].ssh", "executors[0].reach",
            "executors[1].reach"} <= names

    # a failure in one slice: the run fails naming it; the other slice finishes its hosts
    (tmp_path / "standin" / "fail-hosts").write_text("wk3\n")
    (tmp_path / "standin" / "sleep-wk1").write_text("5\n")  # slice 1 still runs when 2 fails
    failed = deepctl("upgrade", str(spec), "--to", "1.35.4", "--yes", cwd=tmp_path)
    assert failed.returncode != 0, failed.stdout + failed.stderr
    assert (f"playbooks/facts.yml failed in slice 2 of 2 (executor root@{ex2.address}:"
            f"{ex2.port}, --limit wk3) on wk3") in failed.stderr
    assert "stand-in failure injected for wk3" in failed.stderr
    assert marker_lines(tmp_path, "wk1") == ["facts.yml limit=wk1,wk2"]
    assert run_state(tmp_path)["failed_stage"] == "upgrade"
    sliced = last_run(tmp_path) / "ansible" / "upgrade" / "artifacts"
    assert (sliced / "facts-slice1" / "status").read_text() == "successful"  # it finished
    assert (sliced / "facts-slice2" / "status").read_text() == "failed"
    (tmp_path / "standin" / "sleep-wk1").unlink()

    # the same command resumes; both executors run their slice at the same time
    (tmp_path / "standin" / "fail-hosts").unlink()
    (tmp_path / "standin" / "sleep").write_text("4\n")
    again = subprocess.Popen([str(DEEPCTL), "upgrade", str(spec), "--to", "1.35.4", "--yes"],
                             cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, stdin=subprocess.DEVNULL)
    try:
        wait_for(lambda: playbook_on(ex1, "wk1,wk2") and playbook_on(ex2, "wk3"), 150)
        out, err = again.communicate(timeout=200)
    finally:
        if again.poll() is None:
            again.kill()
    assert again.returncode == 0, out + err
    assert run_state(tmp_path)["result"] == "succeeded"
    # control plane and etcd first, alone, on the primary; then one slice per executor
    assert marker_lines(tmp_path, "cp1")[-2:] == ["facts.yml limit=cp1",
                                                  "upgrade-cluster.yml limit=cp1"]
    for host, limit in (("wk1", "wk1,wk2"), ("wk2", "wk1,wk2"), ("wk3", "wk3")):
        assert marker_lines(tmp_path, host)[-2:] == [f"facts.yml limit={limit}",
                                                     f"upgrade-cluster.yml limit={limit}"]
    # one run record: each slice's events (with their hosts) and the executor that ran it
    artifacts = last_run(tmp_path) / "ansible" / "upgrade" / "artifacts"
    for ident, executor, hosts in (("upgrade-cluster-slice1", ex1, {"wk1", "wk2"}),
                                   ("upgrade-cluster-slice2", ex2, {"wk3"})):
        events = [json.loads(p.read_text()) for p in (artifacts / ident / "job_events").glob("*")]
        assert {e["event_data"]["host"] for e in events
                if e["event"] == "runner_on_ok"} == hosts, ident
        sent = json.loads((artifacts / ident / "executor-transfer.json").read_text())
        assert sent["executor"] == f"executor root@{executor.address}:{executor.port}"
    # the progress is one view: each task of the sliced playbook announced once
    log = (last_run(tmp_path) / "deepctl.log").read_text()
    task = "TASK Record that upgrade-cluster.yml ran on this host"
    assert log.count(task) == 2, log  # the control plane's run, then both slices as one
    # each executor holds the Kubespray tree (sent once there), no job left
    for executor in (ex1, ex2):
        home = executor.dir / "home" / ".cache" / "deepctl"
        assert len(list((home / "trees").iterdir())) == 1
        assert list((home / "jobs").iterdir()) == []


def test_ctrl_c_stops_every_slice_on_every_executor_and_a_rerun_resumes(
        ssh_host_farm: HostFarm, tmp_path: Path) -> None:
    cp1, wk1, wk2 = ssh_host_farm.add_many(
        [HostProfile("cp1"), HostProfile("wk1"), HostProfile("wk2")])
    ex1, ex2 = make_executors(ssh_host_farm)
    spec = write_spec(tmp_path, ssh_host_farm, {cp1: ["control-plane", "etcd"],
                                                wk1: ["worker"], wk2: ["worker"]},
                      cp1, kube_version="1.34.7")
    use_executors(spec, ssh_host_farm, [ex1, ex2])
    for host in ("wk1", "wk2"):  # the workers' slices sleep, the control plane's run does not
        (tmp_path / "standin" / f"sleep-{host}").write_text("60\n")
    first = subprocess.Popen([str(DEEPCTL), "upgrade", str(spec), "--to", "1.35.4", "--yes"],
                             cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, stdin=subprocess.DEVNULL)
    jobs = [str(e.dir / "home" / ".cache" / "deepctl" / "jobs") for e in (ex1, ex2)]
    try:
        wait_for(lambda: playbook_on(ex1, "wk1") and playbook_on(ex2, "wk2"), 150)
        first.send_signal(signal.SIGINT)
        out, err = first.communicate(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 130, out + err
    assert "canceled during stage upgrade" in err
    for where in jobs:  # both workers, their ansible-playbook and forks are gone
        assert processes_mentioning(where) == [], where
    assert run_state(tmp_path)["failed_stage"] == "upgrade"

    for host in ("wk1", "wk2"):
        (tmp_path / "standin" / f"sleep-{host}").unlink()
    again = deepctl("upgrade", str(spec), "--to", "1.35.4", "--yes", cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert marker_lines(tmp_path, "wk2")[-1] == "upgrade-cluster.yml limit=wk2"


def test_add_node_spreads_its_facts_over_the_executors(ssh_host_farm: HostFarm,
                                                       tmp_path: Path) -> None:
    """facts.yml: the control plane on the primary, then one worker slice per executor;
    every slice's facts reach the state directory, and scale.yml --limit NEW follows."""
    cp1, wk1, wk2 = ssh_host_farm.add_many(
        [HostProfile("cp1"), HostProfile("wk1"), HostProfile("wk2")])
    ex1, ex2 = make_executors(ssh_host_farm)
    spec = write_spec(tmp_path, ssh_host_farm, {cp1: ["control-plane", "etcd"],
                                                wk1: ["worker"]}, cp1)
    use_executors(spec, ssh_host_farm, [ex1, ex2])
    known = tmp_path / ".deepctl" / "lab" / "known_hosts"
    known.write_text(known.read_text() + ssh_host_farm.known_hosts([wk2]))
    ready_nodes(cp1, ["cp1", "wk1", "wk2"])
    added = deepctl("add-node", str(spec), "--name", "wk2", "--address", wk2.address,
                    "--ssh-port", str(wk2.port), "--yes", "--skip", "preflight", cwd=tmp_path)
    assert added.returncode == 0, added.stdout + added.stderr
    assert marker_lines(tmp_path, "cp1") == ["facts.yml limit=cp1"]
    assert marker_lines(tmp_path, "wk1") == ["facts.yml limit=wk1"]
    assert marker_lines(tmp_path, "wk2") == ["facts.yml limit=wk2", "scale.yml limit=wk2"]
    artifacts = last_run(tmp_path) / "ansible" / "facts" / "artifacts"
    assert sorted(p.name for p in artifacts.iterdir()) == ["facts", "facts-slice1",
                                                           "facts-slice2"]
    for host in ("cp1", "wk1", "wk2"):
        path = tmp_path / ".deepctl" / "lab" / "facts-cache" / host
        assert path.is_file() and path.stat().st_mode & 0o077 == 0, host
