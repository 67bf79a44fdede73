"""deepctl deploy through the Kubespray stand-in on loopback SSH hosts."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tests.harness import HostFarm, HostProfile
from tests.integration.engine_support import deepctl, markers, run_state, write_spec

pytestmark = pytest.mark.integration

SKIP_PREFLIGHT = ("--skip", "preflight")


def test_deploy_then_rerun_skips_then_failure_resumes(ssh_host_farm: HostFarm,
                                                      tmp_path: Path) -> None:
    cp1, wk1 = ssh_host_farm.add_many([HostProfile("cp1"), HostProfile("wk1")])
    spec = write_spec(tmp_path, ssh_host_farm,
                      {cp1: ["control-plane", "etcd", "worker"], wk1: ["worker"]}, cp1)

    # an injected failure on wk1 during cluster.yml
    (tmp_path / "standin" / "fail-hosts").write_text("wk1\n")
    failed = deepctl("deploy", str(spec), "--yes", *SKIP_PREFLIGHT, cwd=tmp_path)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "stand-in failure injected for wk1" in failed.stdout + failed.stderr
    assert "resume with: deepctl deploy" in failed.stdout + failed.stderr
    state = run_state(tmp_path)
    assert state["result"] == "failed" and state["failed_stage"] == "kubespray"
    assert markers(tmp_path, "wk1") == ["cluster.yml"]

    # resume: the spec is unchanged, inventory is not redone, kubespray runs again
    (tmp_path / "standin" / "fail-hosts").unlink()
    done = deepctl("deploy", str(spec), "--yes", *SKIP_PREFLIGHT, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "resuming deploy" in done.stdout
    assert "continuing at kubespray" in done.stdout  # the first stage to run, from the ledger
    assert done.stdout.index("resuming deploy") < done.stdout.index("[kubespray]")
    state = run_state(tmp_path)
    stages = state["stages"]
    assert isinstance(stages, dict)
    assert stages["inventory"] == {"status": "skipped", "reason": "up to date"}
    assert stages["kubespray"]["status"] == "succeeded"
    assert stages["verify"]["status"] == "succeeded"
    assert stages["gpu"]["reason"] == "not enabled in the spec"
    assert markers(tmp_path, "wk1") == ["cluster.yml", "cluster.yml"]
    kubeconfig = tmp_path / ".deepctl" / "lab" / "inventory" / "artifacts" / "admin.conf"
    assert stat.S_IMODE(kubeconfig.stat().st_mode) == 0o600
    run_dir = tmp_path / ".deepctl" / "lab" / "runs" / str(state["id"])
    cfg = (run_dir / "ansible.cfg").read_text()
    assert "StrictHostKeyChecking=yes" in cfg and "forks = 2" in cfg
    assert (run_dir / "spec.yaml").read_bytes() == spec.read_bytes()
    assert (run_dir / "deepctl.log").exists()

    # a re-run skips what is up to date: no playbook runs but verify
    again = deepctl("deploy", str(spec), "--yes", *SKIP_PREFLIGHT, cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "[kubespray] skipped (up to date)" in again.stdout
    assert markers(tmp_path, "cp1") == ["cluster.yml", "cluster.yml"]

    runs = deepctl("runs", str(spec), "--json", cwd=tmp_path)
    assert runs.returncode == 0, runs.stderr
    assert [r["result"] for r in __import__("json").loads(runs.stdout)["runs"]] == [
        "succeeded", "succeeded", "failed"]


def test_from_past_a_stage_that_never_succeeded_is_refused(ssh_host_farm: HostFarm,
                                                           tmp_path: Path) -> None:
    (cp1,) = ssh_host_farm.add_many([HostProfile("cp1")])
    spec = write_spec(tmp_path, ssh_host_farm, {cp1: ["control-plane", "etcd", "worker"]}, cp1)
    refused = deepctl("deploy", str(spec), "--yes", "--from", "kubeconfig", cwd=tmp_path)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert ("--from kubeconfig would skip preflight, inventory, kubespray, which never "
            "succeeded for this cluster") in refused.stderr
    assert f"run `deepctl deploy {spec}`" in refused.stderr
    assert "kubeconfig_localhost" not in refused.stderr  # never hint at what validate refuses
    assert markers(tmp_path, "cp1") == []
    assert not (tmp_path / ".deepctl" / "lab" / "runs").exists()  # no run was started


def test_a_run_ends_with_its_slowest_stages_and_tasks(ssh_host_farm: HostFarm,
                                                      tmp_path: Path) -> None:
    import json

    (cp1,) = ssh_host_farm.add_many([HostProfile("cp1")])
    spec = write_spec(tmp_path, ssh_host_farm, {cp1: ["control-plane", "etcd", "worker"]}, cp1)
    (tmp_path / "standin" / "sleep").write_text("3\n")  # one task of cluster.yml sleeps 3 s
    done = deepctl("deploy", str(spec), "--yes", *SKIP_PREFLIGHT, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    summary = [line for line in done.stdout.splitlines() if "slowest " in line]
    tasks = [line for line in summary if "slowest task:" in line]
    assert tasks[0].split("slowest task: ", 1)[1].startswith(
        "Sleep as the stand-in was told to (kubespray) ")
    assert any("slowest stage: kubespray " in line for line in summary)
    assert len(tasks) == 5 and len(summary) <= 15  # top 5 of each, one line each

    runs = json.loads(deepctl("runs", str(spec), "--json", cwd=tmp_path).stdout)["runs"]
    timing = runs[0]["timing"]
    assert timing["tasks"][0]["name"] == "Sleep as the stand-in was told to"
    assert timing["tasks"][0]["stage"] == "kubespray"
    assert timing["tasks"][0]["duration_s"] >= 3.0
    assert "kubespray" in [s["name"] for s in timing["stages"]]
    state = run_state(tmp_path)
    recorded = state["stages"]["kubespray"]["tasks"]  # type: ignore[index]
    assert {"role": "", "task": "Sleep as the stand-in was told to"}.items() <= next(
        t for t in recorded if t["task"].startswith("Sleep")).items()
