"""Faults mid-deploy (loopback SSH hosts, the Kubespray stand-in, deepctl as a subprocess).

SIGINT/SIGTERM and the lock held by a live process are in ``test_deploy_cancel.py``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from tests.harness import HostFarm, HostProfile
from tests.integration.engine_support import DEEPCTL, deepctl, markers, run_state, write_spec
from tests.integration.test_deploy_cancel import wait_for

pytestmark = pytest.mark.integration

DEPLOY = ("--yes", "--skip", "preflight")


def start_deploy(spec: Path, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([str(DEEPCTL), "deploy", str(spec), *DEPLOY], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)


def wait_until_sleeping(tmp_path: Path) -> None:
    runs = tmp_path / ".deepctl" / "lab" / "runs"
    wait_for(lambda: any("TASK Sleep" in p.read_text() for p in runs.glob("*/deepctl.log")), 90)


def processes_under(directory: Path) -> list[int]:
    """Processes (not this test's) whose command line names ``directory``."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().decode(errors="replace")
        except OSError:
            continue
        if str(directory) in args and int(cmdline.parent.name) != os.getpid():
            found.append(int(cmdline.parent.name))
    return found


def test_sigkill_mid_run_then_deploy_takes_the_lock_over_and_resumes(
        ssh_host_farm: HostFarm, tmp_path: Path) -> None:
    (cp1,) = ssh_host_farm.add_many([HostProfile("cp1")])
    spec = write_spec(tmp_path, ssh_host_farm, {cp1: ["control-plane", "etcd", "worker"]}, cp1)
    (tmp_path / "standin" / "sleep").write_text("60\n")
    first = start_deploy(spec, tmp_path)
    try:
        wait_until_sleeping(tmp_path)
        dead_run = str(run_state(tmp_path)["id"])
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == -signal.SIGKILL
    assert run_state(tmp_path, dead_run)["result"] == "running"  # nobody could record more
    (tmp_path / "standin" / "sleep").unlink()
    orphans = processes_under(tmp_path)
    assert orphans, "the killed deepctl left its ansible-playbook running"

    done = deepctl("deploy", str(spec), *DEPLOY, cwd=tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert f"took over the cluster lock left by PID {first.pid} on " in output
    assert "stopped Ansible processes the interrupted run left behind" in output
    assert not [pid for pid in orphans if Path(f"/proc/{pid}").exists()]
    assert f"run {dead_run} recorded as interrupted" in output
    assert f"resuming deploy {dead_run} (interrupted)" in output
    assert "Traceback" not in output

    dead = run_state(tmp_path, dead_run)
    assert dead["result"] == "interrupted" and dead["failed_stage"] == "kubespray"
    assert dead["stages"]["kubespray"]["status"] == "interrupted"  # type: ignore[index]
    listed = deepctl("runs", str(spec), "--json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    runs = {r["id"]: r for r in json.loads(listed.stdout)["runs"]}
    assert runs[dead_run]["result"] == "interrupted"
    assert runs[dead_run]["failed_stage"] == "kubespray"
    newest = run_state(tmp_path)
    assert newest["id"] != dead_run and newest["result"] == "succeeded"
    assert newest["stages"]["inventory"]["status"] == "skipped"  # type: ignore[index]
    assert markers(tmp_path, "cp1")[-1] == "cluster.yml"


def test_host_unreachable_mid_run_fails_naming_it_then_resumes(
        ssh_host_farm: HostFarm, tmp_path: Path) -> None:
    cp1, wk1 = ssh_host_farm.add_many([HostProfile("cp1"), HostProfile("wk1")])
    spec = write_spec(tmp_path, ssh_host_farm,
                      {cp1: ["control-plane", "etcd", "worker"], wk1: ["worker"]}, cp1)
    (tmp_path / "standin" / "sleep").write_text("4\n")
    first = start_deploy(spec, tmp_path)
    try:
        wait_until_sleeping(tmp_path)
        wk1.stop()  # sshd and every session on wk1 killed: it is gone mid-task
        out, err = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
    output = out + err
    assert first.returncode == 1, output
    assert "wk1" in output and "unreachable" in output
    assert "Sleep as the stand-in was told to" in output  # the task it was in
    assert "resume with: deepctl deploy" in output
    assert "Traceback" not in output

    state = run_state(tmp_path)
    assert state["result"] == "failed" and state["failed_stage"] == "kubespray"
    assert state["finished_at"] and isinstance(state["duration_s"], float)
    assert "wk1" in str(state["error"])
    stages = state["stages"]
    assert isinstance(stages, dict)
    assert stages["inventory"]["status"] == "succeeded"
    assert stages["kubespray"]["status"] == "failed" and stages["kubespray"]["finished_at"]
    assert "verify" not in stages or stages["verify"]["status"] == "pending"
    assert "wk1" in (Path(str(tmp_path / ".deepctl" / "lab" / "runs" / str(state["id"])))
                     / "deepctl.log").read_text()

    wk1.start()
    (tmp_path / "standin" / "sleep").unlink()
    done = deepctl("deploy", str(spec), *DEPLOY, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "resuming deploy" in done.stdout
    assert run_state(tmp_path)["result"] == "succeeded"
    assert markers(tmp_path, "wk1")[-1] == "cluster.yml"


def test_corrupt_or_newer_state_is_a_clear_error(ssh_host_farm: HostFarm,
                                                 tmp_path: Path) -> None:
    (cp1,) = ssh_host_farm.add_many([HostProfile("cp1")])
    spec = write_spec(tmp_path, ssh_host_farm, {cp1: ["control-plane", "etcd", "worker"]}, cp1)
    state_root = tmp_path / ".deepctl" / "lab"
    run_dir = state_root / "runs" / "20260101T000000Z-deploy-0a0b"
    run_dir.mkdir(parents=True, mode=0o700)
    record = {"version": 1, "id": run_dir.name, "command": "deploy", "result": "failed"}
    (run_dir / "state.json").write_text(json.dumps(record)[:30])  # truncated

    corrupt = deepctl("deploy", str(spec), *DEPLOY, cwd=tmp_path)
    output = corrupt.stdout + corrupt.stderr
    assert corrupt.returncode != 0, output
    assert f"{run_dir / 'state.json'}: unreadable run state" in corrupt.stderr
    assert f"move {run_dir} out of" in corrupt.stderr and "--restart" in corrupt.stderr
    assert "Traceback" not in output
    assert len(list((state_root / "runs").iterdir())) == 1  # no run was started
    assert markers(tmp_path, "cp1") == []

    (run_dir / "state.json").write_text(json.dumps({**record, "version": 99}))
    (state_root / "stages.json").write_text(json.dumps({"version": 99, "stages": {}}))
    newer = deepctl("deploy", str(spec), *DEPLOY, cwd=tmp_path)
    output = newer.stdout + newer.stderr
    assert newer.returncode != 0, output
    assert "written by a newer deepctl (state schema 99" in newer.stderr
    assert "upgrade deepctl" in newer.stderr
    assert "Traceback" not in output
    assert markers(tmp_path, "cp1") == []
