"""spec.executor: Ansible runs as an ansible-runner worker on a loopback executor host.

The executor is a plain test host whose PATH has this venv's ``ansible-runner`` and Ansible
(its ``bin/`` links to them); the cluster hosts are test hosts it reaches over SSH with the
job's key and known_hosts. The stand-in Kubespray is deployed locally and through it, and the
two event streams are compared.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.harness import HostFarm, HostProfile, TestHost
from tests.integration.engine_support import (
    DEEPCTL,
    deepctl,
    markers,
    run_state,
    wait_for,
    write_spec,
)
from tests.integration.test_deploy_cancel import processes_mentioning

pytestmark = pytest.mark.integration

VENV_BIN = Path(sys.executable).parent
TOOLS = ("ansible-runner", "ansible-playbook", "ansible-inventory", "ansible-config", "ansible")


def make_executor(farm: HostFarm) -> TestHost:
    # it forwards TCP, as OpenSSH does by default: preflight logs in to the hosts through it
    (executor,) = farm.add_many([HostProfile("exec1", tcp_forwarding=True)])
    for tool in TOOLS:
        (executor.bin_dir / tool).symlink_to(VENV_BIN / tool)
    return executor


def use_executor(spec: Path, farm: HostFarm, executor: TestHost) -> None:
    data = yaml.safe_load(spec.read_text(encoding="utf-8"))
    data["spec"]["executor"] = {"address": executor.address, "port": executor.port}
    spec.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    known = spec.parent / ".deepctl" / "lab" / "known_hosts"
    known.write_text(known.read_text(encoding="ascii") + farm.known_hosts([executor]),
                     encoding="ascii")


def event_stream(run_dir: Path, stage: str) -> list[tuple[Any, ...]]:
    """Plays, tasks, hosts and results of one stage's playbook, in order (the hosts of one
    task in name order: forks finish in any order, locally too)."""
    out: list[tuple[Any, ...]] = []
    block: list[tuple[Any, ...]] = []
    for events in sorted((run_dir / "ansible" / stage / "artifacts").glob("*/job_events")):
        for path in sorted(events.glob("*.json"), key=lambda p: int(p.name.split("-")[0])):
            event = json.loads(path.read_text(encoding="utf-8"))
            data = event.get("event_data", {})
            item = (event["event"], data.get("play"), data.get("task"), data.get("host"),
                    (data.get("res") or {}).get("changed"))
            if item[3] is None:
                out += sorted(block, key=str)
                block = []
                out.append(item)
            else:
                block.append(item)
    return out + sorted(block, key=str)


def last_run(tmp_path: Path) -> Path:
    return sorted((tmp_path / ".deepctl" / "lab" / "runs").iterdir())[-1]


def test_deploy_through_executor_streams_the_same_events(ssh_host_farm: HostFarm,
                                                          tmp_path: Path) -> None:
    cp1, wk1 = ssh_host_farm.add_many([HostProfile("cp1"), HostProfile("wk1")])
    executor = make_executor(ssh_host_farm)
    hosts = {cp1: ["control-plane", "etcd", "worker"], wk1: ["worker"]}
    local_dir, remote_dir = tmp_path / "local", tmp_path / "remote"
    local_dir.mkdir()
    remote_dir.mkdir()
    local = write_spec(local_dir, ssh_host_farm, hosts, cp1)
    done = deepctl("deploy", str(local), "--yes", "--skip", "preflight", cwd=local_dir)
    assert done.returncode == 0, done.stdout + done.stderr

    remote = write_spec(remote_dir, ssh_host_farm, hosts, cp1)
    use_executor(remote, ssh_host_farm, executor)
    done = deepctl("deploy", str(remote), "--yes", "--skip", "preflight", cwd=remote_dir)
    assert done.returncode == 0, done.stdout + done.stderr

    for stage in ("kubespray", "verify"):
        here, there = event_stream(last_run(local_dir), stage), event_stream(
            last_run(remote_dir), stage)
        assert there and there == here, stage
    # the playbooks ran on the executor (its job directory), not here
    assert "/.cache/deepctl/trees/" in (
        last_run(remote_dir) / "ansible" / "kubespray" / "artifacts" / "cluster" / "command"
    ).read_text(encoding="utf-8")
    # the Kubespray tree went once (with the executor check before the stages), kept by hash
    trees = list((executor.dir / "home" / ".cache" / "deepctl" / "trees").iterdir())
    assert len(trees) == 1 and (trees[0] / "cluster.yml").is_file()
    state = remote_dir / ".deepctl" / "lab"
    check = json.loads((state / "executor-check" / "artifacts" / "executor-reach"
                        / "executor-transfer.json").read_text())
    run = json.loads((last_run(remote_dir) / "ansible" / "kubespray" / "artifacts" / "cluster"
                      / "executor-transfer.json").read_text())
    assert check["tree_bytes"] > 0 and run["tree_bytes"] == 0 and run["job_bytes"] > 0
    # the job directory with its key copies is not kept here either
    assert not list((remote_dir / ".deepctl").rglob("executor-job*"))
    # nothing left on the executor: job directories are removed after each playbook
    jobs = executor.dir / "home" / ".cache" / "deepctl" / "jobs"
    assert not jobs.exists() or list(jobs.iterdir()) == []
    # facts and admin.conf came back into the state directory, private
    admin = "inventory/artifacts/admin.conf"
    assert ((remote_dir / ".deepctl" / "lab" / admin).stat().st_mode
            == (local_dir / ".deepctl" / "lab" / admin).stat().st_mode)
    for name in ("facts-cache/cp1", "facts-cache/wk1", admin):
        assert (remote_dir / ".deepctl" / "lab" / name).stat().st_mode & 0o077 == 0, name


def test_executor_override_on_the_command_line(ssh_host_farm: HostFarm, tmp_path: Path) -> None:
    (cp1,) = ssh_host_farm.add_many([HostProfile("cp1")])
    executor = make_executor(ssh_host_farm)
    spec = write_spec(tmp_path, ssh_host_farm, {cp1: ["control-plane", "etcd", "worker"]}, cp1)
    use_executor(spec, ssh_host_farm, executor)
    data = yaml.safe_load(spec.read_text(encoding="utf-8"))
    data["spec"]["executor"]["address"] = "127.0.0.250"  # nothing listens there
    spec.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    done = deepctl("deploy", str(spec), "--yes", "--skip", "preflight",
                   "--executor", executor.address, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (last_run(tmp_path) / "ansible" / "kubespray" / "artifacts").exists()

    bad = deepctl("deploy", str(spec), "--yes", "--skip", "preflight", "--executor", "not an address",
                  cwd=tmp_path)
    assert bad.returncode == 2, bad.stdout + bad.stderr
    assert "--executor: 'not an address' is neither an IP address nor a DNS name" in bad.stderr


def test_sigint_stops_the_worker_on_the_executor_and_a_rerun_resumes(
        ssh_host_farm: HostFarm, tmp_path: Path) -> None:
    (cp1,) = ssh_host_farm.add_many([HostProfile("cp1")])
    executor = make_executor(ssh_host_farm)
    spec = write_spec(tmp_path, ssh_host_farm, {cp1: ["control-plane", "etcd", "worker"]}, cp1)
    use_executor(spec, ssh_host_farm, executor)
    (tmp_path / "standin" / "sleep").write_text("60\n")
    first = subprocess.Popen([str(DEEPCTL), "deploy", str(spec), "--yes", "--skip", "preflight"],
                             cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, stdin=subprocess.DEVNULL)
    runs = tmp_path / ".deepctl" / "lab" / "runs"
    jobs = str(executor.dir / "home" / ".cache" / "deepctl" / "jobs")
    try:
        wait_for(lambda: any("TASK Sleep" in p.read_text() for p in runs.glob("*/deepctl.log")),
                 90)
        assert processes_mentioning(jobs)  # the worker and ansible-playbook run there
        first.send_signal(signal.SIGINT)
        out, err = first.communicate(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 130, out + err
    assert "canceled during stage kubespray" in err
    assert run_state(tmp_path)["failed_stage"] == "kubespray"
    assert processes_mentioning(jobs) == []  # worker, ansible-playbook and forks are gone

    (tmp_path / "standin" / "sleep").unlink()
    again = deepctl("deploy", str(spec), "--yes", "--skip", "preflight", cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    state = run_state(tmp_path)
    assert state["result"] == "succeeded", state


def test_unreachable_executor_fails_with_a_fix(ssh_host_farm: HostFarm, tmp_path: Path) -> None:
    (cp1,) = ssh_host_farm.add_many([HostProfile("cp1")])
    executor = make_executor(ssh_host_farm)
    spec = write_spec(tmp_path, ssh_host_farm, {cp1: ["control-plane", "etcd", "worker"]}, cp1)
    use_executor(spec, ssh_host_farm, executor)
    known = tmp_path / ".deepctl" / "lab" / "known_hosts"
    known.write_text(ssh_host_farm.known_hosts([cp1]), encoding="ascii")  # executor's key unknown
    done = deepctl("deploy", str(spec), "--yes", "--skip", "preflight", cwd=tmp_path)
    assert done.returncode == 3, done.stdout + done.stderr
    assert f"error: executor: unknown SSH host key for {executor.address}" in done.stderr
    assert "rerun with --accept-new-hosts to record it" in done.stderr
    assert markers(tmp_path, "cp1") == []  # no host touched


KUBESPRAY_PINS = "ansible==11.13.0\ncryptography==46.0.7\njmespath==1.1.0\nnetaddr==1.3.0\n"


def standin_with_requirements(tmp_path: Path, text: str) -> Path:
    """The stand-in tree with a requirements.txt like Kubespray v2.31.0's."""
    from tests.integration.engine_support import STANDIN

    tree = tmp_path / "kubespray"
    shutil.copytree(STANDIN, tree)
    (tree / "requirements.txt").write_text(text, encoding="utf-8")
    return tree


def test_executor_check_reports_each_check_and_a_fix(ssh_host_farm: HostFarm,
                                                      tmp_path: Path) -> None:
    cp1, wk1 = ssh_host_farm.add_many([HostProfile("cp1"), HostProfile("wk1")])
    executor = make_executor(ssh_host_farm)
    tree = standin_with_requirements(tmp_path, KUBESPRAY_PINS)
    spec = write_spec(tmp_path, ssh_host_farm, {cp1: ["control-plane", "etcd", "worker"],
                                                wk1: ["worker"]}, cp1, kubespray=tree)
    use_executor(spec, ssh_host_farm, executor)
    done = deepctl("executor", "check", str(spec), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    checks = {c["check"]: c for c in json.loads(done.stdout)["checks"]}
    assert {c["status"] for c in checks.values()} == {"ok"}
    assert {"executor.ssh", "executor.runner", "executor.requirements.ansible",
            "executor.requirements.jmespath", "executor.disk", "executor.reach"} <= set(checks)

    (tree / "requirements.txt").write_text(KUBESPRAY_PINS.replace("1.1.0", "0.9.9"))
    wk1.stop()  # the executor cannot reach it any more
    done = deepctl("executor", "check", str(spec), cwd=tmp_path)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "jmespath==0.9.9" in done.stderr  # the fix installs the pinned version
    done = deepctl("executor", "check", str(spec), "--json", cwd=tmp_path)
    checks = {c["check"]: c for c in json.loads(done.stdout)["checks"]}
    assert checks["executor.requirements.jmespath"]["message"].endswith(
        "jmespath is 1.1.0 beside ansible-runner; Kubespray needs jmespath==0.9.9")
    assert "executor.reach" not in checks  # hosts are tried once the executor itself is fit

    (tree / "requirements.txt").write_text(KUBESPRAY_PINS)
    done = deepctl("executor", "check", str(spec), "--json", cwd=tmp_path)
    assert done.returncode == 3, done.stdout + done.stderr
    checks = {c["check"]: c for c in json.loads(done.stdout)["checks"]}
    assert checks["executor.reach.wk1"]["status"] == "error"
    assert "executor.reach.cp1" not in checks


def test_an_executor_without_ansible_runner_fails_before_any_host_is_touched(
        ssh_host_farm: HostFarm, tmp_path: Path) -> None:
    cp1, bare = ssh_host_farm.add_many([HostProfile("cp1"), HostProfile("bare1")])
    spec = write_spec(tmp_path, ssh_host_farm, {cp1: ["control-plane", "etcd", "worker"]}, cp1)
    use_executor(spec, ssh_host_farm, bare)
    done = deepctl("deploy", str(spec), "--yes", cwd=tmp_path)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "ansible-runner is not on PATH" in done.stderr
    assert "pip install ansible-runner ansible==11.13.0" not in done.stderr  # no pins: stand-in
    assert "pip install ansible-runner" in done.stderr
    assert markers(tmp_path, "cp1") == []
    assert not (tmp_path / ".deepctl" / "lab" / "runs").exists() or not any(
        (tmp_path / ".deepctl" / "lab" / "runs").iterdir())


def test_preflight_checks_the_executor_too(ssh_host_farm: HostFarm, tmp_path: Path) -> None:
    cp1, bare = ssh_host_farm.add_many([HostProfile("cp1"), HostProfile("bare1")])
    spec = write_spec(tmp_path, ssh_host_farm, {cp1: ["control-plane", "etcd", "worker"]}, cp1)
    use_executor(spec, ssh_host_farm, bare)
    done = deepctl("preflight", str(spec), cwd=tmp_path)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "the executor is not ready: 2 check(s) failed" in done.stderr
    assert f"then rerun `deepctl preflight {spec}`" in done.stderr


def test_a_dropped_connection_is_recorded_and_leaves_nothing_there(
        ssh_host_farm: HostFarm, tmp_path: Path) -> None:
    (cp1,) = ssh_host_farm.add_many([HostProfile("cp1")])
    executor = make_executor(ssh_host_farm)
    spec = write_spec(tmp_path, ssh_host_farm, {cp1: ["control-plane", "etcd", "worker"]}, cp1)
    use_executor(spec, ssh_host_farm, executor)
    (tmp_path / "standin" / "sleep").write_text("60\n")
    first = subprocess.Popen([str(DEEPCTL), "deploy", str(spec), "--yes", "--skip", "preflight"],
                             cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, stdin=subprocess.DEVNULL)
    runs = tmp_path / ".deepctl" / "lab" / "runs"
    jobs = str(executor.dir / "home" / ".cache" / "deepctl" / "jobs")
    try:
        wait_for(lambda: any("TASK Sleep" in p.read_text() for p in runs.glob("*/deepctl.log")),
                 90)
        links = [p for p in processes_mentioning("exec ansible-runner worker")
                 if p.split(": ", 1)[1].startswith("ssh ")]
        assert len(links) == 1, links
        os.kill(int(links[0].split(":")[0]), signal.SIGKILL)  # the connection drops
        out, err = first.communicate(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 1, out + err
    assert "the connection was lost during task 'Sleep as the stand-in was told to'" in err
    assert "Rerun the same command to resume" in err
    assert run_state(tmp_path)["failed_stage"] == "kubespray"
    assert processes_mentioning(jobs) == []  # worker and ansible-playbook stopped there

    (tmp_path / "standin" / "sleep").unlink()
    again = deepctl("deploy", str(spec), "--yes", "--skip", "preflight", cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "resum" in again.stdout + again.stderr


def test_reset_with_an_executor_not_ready_touches_no_host(ssh_host_farm: HostFarm,
                                                          tmp_path: Path) -> None:
    cp1, bare = ssh_host_farm.add_many([HostProfile("cp1"), HostProfile("bare1")])
    spec = write_spec(tmp_path, ssh_host_farm, {cp1: ["control-plane", "etcd", "worker"]}, cp1)
    use_executor(spec, ssh_host_farm, bare)
    done = deepctl("reset", str(spec), "--yes", cwd=tmp_path)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "ansible-runner is not on PATH" in done.stderr
    assert markers(tmp_path, "cp1") == []


def test_add_node_through_the_executor(ssh_host_farm: HostFarm, tmp_path: Path) -> None:
    """facts.yml on every host, then scale.yml --limit the new one: the facts gathered by
    the first job reach the second through the state directory."""
    from tests.integration.engine_support import ready_nodes

    cp1, wk2 = ssh_host_farm.add_many([HostProfile("cp1"), HostProfile("wk2")])
    executor = make_executor(ssh_host_farm)
    spec = write_spec(tmp_path, ssh_host_farm, {cp1: ["control-plane", "etcd", "worker"]}, cp1)
    use_executor(spec, ssh_host_farm, executor)
    known = tmp_path / ".deepctl" / "lab" / "known_hosts"
    known.write_text(ssh_host_farm.known_hosts([cp1, wk2, executor]))
    done = deepctl("deploy", str(spec), "--yes", "--skip", "preflight", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    ready_nodes(cp1, ["cp1", "wk2"])
    port = [] if wk2.port == 22 else ["--ssh-port", str(wk2.port)]
    added = deepctl("add-node", str(spec), "--name", "wk2", "--address", wk2.address, *port,
                    "--yes", "--skip", "preflight", cwd=tmp_path)
    assert added.returncode == 0, added.stdout + added.stderr
    assert markers(tmp_path, "wk2") == ["facts.yml", "scale.yml"]
    assert markers(tmp_path, "cp1") == ["cluster.yml", "facts.yml"]
    assert (tmp_path / ".deepctl" / "lab" / "facts-cache" / "wk2").is_file()


def test_preflight_logs_in_to_the_hosts_through_the_executor(ssh_host_farm: HostFarm,
                                                             tmp_path: Path) -> None:
    """The hosts may accept SSH only from the executor: preflight's own logins go through it
    (a direct-tcpip channel of the executor's sshd), host keys checked here as always."""
    (cp1,) = ssh_host_farm.add_many([HostProfile("cp1")])
    forwards, refuses = ssh_host_farm.add_many([HostProfile("exec1", tcp_forwarding=True),
                                                HostProfile("exec2")])
    for executor in (forwards, refuses):
        for tool in TOOLS:
            (executor.bin_dir / tool).symlink_to(VENV_BIN / tool)
    spec = write_spec(tmp_path, ssh_host_farm, {cp1: ["control-plane", "etcd", "worker"]}, cp1)
    use_executor(spec, ssh_host_farm, forwards)
    done = deepctl("preflight", str(spec), "--json", cwd=tmp_path)
    assert done.returncode in (0, 3), done.stdout + done.stderr  # the test host may lack a node's needs
    findings = [f for h in json.loads(done.stdout)["hosts"] for f in h["findings"]]
    assert [f for f in findings if f["group"] == "ssh" and f["status"] != "ok"] == []
    assert (tmp_path / ".deepctl" / "lab" / "facts" / "cp1.json").is_file()

    # the same spec through an executor whose sshd forwards nothing: the hosts are not
    # reached at all, and the finding says where the way in stopped and what to change
    use_executor(spec, ssh_host_farm, refuses)
    done = deepctl("preflight", str(spec), "--json", cwd=tmp_path)
    assert done.returncode == 3, done.stdout + done.stderr
    (finding,) = [f for h in json.loads(done.stdout)["hosts"] for f in h["findings"]
                  if f["host"] == "cp1" and f["check"] == "ssh.connect"]
    assert finding["message"].startswith(
        f"cp1: the executor could not open a connection to {cp1.address}:{cp1.port}")
    assert "executor's sshd allows TCP forwarding (AllowTcpForwarding)" in finding["hint"]


def test_an_executor_behind_a_jump_host_that_forwards_nothing_is_named_with_its_fix(
        ssh_host_farm: HostFarm, tmp_path: Path) -> None:
    """spec.executor.bastion: the executor is reached through a direct-tcpip channel of its
    jump host; a jump host that refuses forwarding is a check with its fix, not a traceback."""
    cp1, jump = ssh_host_farm.add_many([HostProfile("cp1"), HostProfile("jump1")])
    executor = make_executor(ssh_host_farm)
    spec = write_spec(tmp_path, ssh_host_farm, {cp1: ["control-plane", "etcd", "worker"]}, cp1)
    use_executor(spec, ssh_host_farm, executor)
    data = yaml.safe_load(spec.read_text(encoding="utf-8"))
    data["spec"]["executor"]["bastion"] = {"address": jump.address, "port": jump.port}
    spec.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    known = tmp_path / ".deepctl" / "lab" / "known_hosts"
    known.write_text(known.read_text(encoding="ascii") + ssh_host_farm.known_hosts([jump]),
                     encoding="ascii")
    done = deepctl("executor", "check", str(spec), "--json", cwd=tmp_path)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    (check,) = [c for c in json.loads(done.stdout)["checks"] if c["check"] == "executor.ssh"]
    assert check["status"] == "error"
    assert check["message"].startswith(
        f"executor: the executor bastion could not open a connection to {executor.address}:"
        f"{executor.port}")
    assert "AllowTcpForwarding" in check["hint"]
