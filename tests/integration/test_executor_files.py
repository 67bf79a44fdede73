"""The executor's remaining gaps: files of this machine an addon playbook's variables name
travel in the job; ``deepctl preflight --executor``; old Kubespray trees pruned there.

The executor is a loopback test host (``make_executor``) sharing this machine's filesystem,
so a file carried in the job is proven by moving the file here away after the job was built
and before the worker reads it.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from deepctl.addons.playbook import plan_addon, prepare_addon
from deepctl.addons.registry import get_addon
from deepctl.addons.secrets import grafana_admin_secret
from deepctl.ansible import settings as ansible_settings
from deepctl.ansible.remote import RemoteJob
from deepctl.ansible.runner import ControllerFile, PlaybookRun, run_playbook
from deepctl.executor.job import TREES_DIR, JobBuilder, tree_digest
from deepctl.executor.target import ExecutorTarget, Login
from deepctl.fsutil import atomic_write, ensure_private_dir
from tests.harness import HostFarm, HostProfile
from tests.integration.engine_support import STANDIN, deepctl, wait_for, write_spec
from tests.integration.test_addons import helm_calls, workspace
from tests.integration.test_executor import TOOLS, VENV_BIN, make_executor, use_executor

pytestmark = pytest.mark.integration


def strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in strings(v)]
    return [value] if isinstance(value, str) else []


def test_an_addon_through_the_executor_reads_the_files_its_job_carried(
        ssh_host_farm: HostFarm, tmp_path: Path) -> None:
    (cp1,) = ssh_host_farm.add_many([HostProfile("cp1")])
    executor = make_executor(ssh_host_farm)
    ws = workspace(tmp_path, ssh_host_farm, cp1, {"gpu": {"enabled": False}})
    atomic_write(ws.state.known_hosts, ssh_host_farm.known_hosts([cp1, executor]))
    target = ExecutorTarget(Login(executor.address, executor.port, "root",
                                  ssh_host_farm.client_key), None, ws.state.known_hosts)
    builder = JobBuilder(target, ws.cluster, ws.state, STANDIN,
                         ansible_settings.settings_for(ws.cluster, ws.state), tmp_path)
    work, remote_dir = tmp_path / "run1", tmp_path / "remote"
    items = prepare_addon(ws, "monitoring", work, remote_dir=str(remote_dir))
    sent: dict[str, dict[str, Any]] = {}
    moved: list[Path] = []

    def build(run: PlaybookRun, envvars: dict[str, str]) -> RemoteJob:
        job = builder(run, envvars)
        sent[run.ident] = job.kwargs["extravars"]
        for name in run.files:  # gone from here before the worker reads a byte of them
            path = Path(name)
            path.rename(path.with_name(path.name + ".moved"))
            moved.append(path)
        return job

    helm = next(i for i in items if i.name == "helm")
    # every file of this machine the variables name is declared as one (values, manifests,
    # the Grafana Secret in the state directory)
    named = [s for s in strings(helm.extravars) if s.startswith("/") and Path(s).is_file()]
    assert named and all(isinstance(s, ControllerFile) for s in named), named
    grafana = grafana_admin_secret(ws.state).path
    assert str(grafana) in named
    for item in items:
        run = PlaybookRun(private_data_dir=ensure_private_dir(work / "ansible" / item.name),
                          playbook=item.playbook, inventory=ws.state.inventory_dir,
                          extravars=item.extravars, ident=f"monitoring-{item.name}",
                          remote=build)
        result = run_playbook(run)
        assert (result.rc, result.status) == (0, "successful"), (
            result.artifact_dir / "stdout").read_text()
        assert (result.artifact_dir / "executor-transfer.json").is_file()  # ran there

    assert sorted(moved) == sorted(Path(s) for s in named) and not any(p.exists() for p in moved)
    # the worker's variables name copies inside its job, none of this machine's paths
    there = sent["monitoring-helm"]
    jobs = str(executor.dir / "home" / ".cache" / "deepctl" / "jobs") + "/"
    carried = [s for s in strings(there) if "/files/" in s]
    assert len(carried) == len(named) and all(p.startswith(jobs) for p in carried), there
    assert not [s for s in strings(there) if s in named], there
    release = there["deepctl_releases"][0]
    assert release["values_file"].startswith(jobs)
    assert release["values_file"].endswith("/kube-prometheus-stack.values.yaml")
    # and what they held arrived: the values helm was given, the Secret kubectl applied
    (plan,) = plan_addon(ws.cluster, get_addon("monitoring")).releases
    values_file = remote_dir / "kube-prometheus-stack.values.yaml"
    assert helm_calls(cp1, "upgrade")[0][-2:] == ["--values", str(values_file)]
    assert values_file.read_text(encoding="utf-8") == plan.values
    applied = [yaml.safe_load(c["stdin"]) for c in cp1.calls("kubectl")
               if c["argv"][1:] == ["apply", "--filename", "-"]]
    secret = yaml.safe_load(grafana.with_name(grafana.name + ".moved").read_text())
    assert secret in applied and [a["kind"] for a in applied] == [
        "Namespace", "ConfigMap", "Secret"]
    assert not list(work.rglob("executor-job*"))  # the job's copies are not kept here


def test_preflight_takes_the_executor_option(ssh_host_farm: HostFarm, tmp_path: Path) -> None:
    """--executor on preflight: checked like the spec's address (exit 2), and that executor
    is the one checked and the way in to the hosts (the spec's is a dead address)."""
    (cp1,) = ssh_host_farm.add_many([HostProfile("cp1")])
    (executor,) = ssh_host_farm.add_many([HostProfile("exec1", tcp_forwarding=True)])
    for tool in TOOLS:
        (executor.bin_dir / tool).symlink_to(VENV_BIN / tool)
    spec = write_spec(tmp_path, ssh_host_farm, {cp1: ["control-plane", "etcd", "worker"]}, cp1)
    if executor.port != 22:  # the option gives the address; the port comes from the spec
        data = yaml.safe_load(spec.read_text(encoding="utf-8"))
        data["spec"]["executor"] = {"address": "127.0.0.250", "port": executor.port}  # dead
        spec.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    known = tmp_path / ".deepctl" / "lab" / "known_hosts"
    known.write_text(ssh_host_farm.known_hosts([cp1, executor]), encoding="ascii")

    bad = deepctl("preflight", str(spec), "--executor", "not an address!", cwd=tmp_path)
    assert bad.returncode == 2, bad.stdout + bad.stderr
    assert "--executor" in bad.stderr

    done = deepctl("preflight", str(spec), "--json", "--executor", executor.address,
                   cwd=tmp_path)
    assert done.returncode in (0, 3), done.stdout + done.stderr  # a test host may lack a need
    report = json.loads(done.stdout)
    checks = {c["check"]: c["status"] for c in report["executor"]}
    assert {"executor.ssh", "executor.runner", "executor.disk", "executor.reach"} <= set(
        checks), checks
    assert set(checks.values()) == {"ok"}, checks
    findings = [f for h in report["hosts"] for f in h["findings"]]
    assert findings and [f for f in findings if f["group"] == "ssh" and f["status"] != "ok"] == []
    assert executor.address not in spec.read_text(encoding="utf-8")


def test_old_trees_are_pruned_when_a_new_one_is_sent(ssh_host_farm: HostFarm,
                                                     tmp_path: Path) -> None:
    """Kept: the tree in use, the 3 used last, any used within the hour, any a running worker
    holds (its shared flock); the rest go. A tree found kept is marked used."""
    (cp1,) = ssh_host_farm.add_many([HostProfile("cp1")])
    executor = make_executor(ssh_host_farm)
    spec = write_spec(tmp_path, ssh_host_farm, {cp1: ["control-plane", "etcd", "worker"]}, cp1)
    use_executor(spec, ssh_host_farm, executor)
    trees = executor.dir / "home" / TREES_DIR
    trees.mkdir(parents=True)
    now = time.time()
    ages = {"recent1": 600, "recent2": 1200, "recent3": 1800, "recent4": 2400,  # minutes 10-40
            "old1": 2 * 3600, "held": 3 * 3600, "old2": 4 * 3600, "old3": 5 * 3600}
    digest = {name: f"{i:064x}" for i, name in enumerate(ages, start=1)}
    for name, age in ages.items():
        (trees / digest[name]).mkdir()
        (trees / digest[name] / "cluster.yml").write_text("---\n")
        os.utime(trees / digest[name], (now - age, now - age))
    locked = tmp_path / "locked"
    holder = subprocess.Popen(["flock", "-s", str(trees / digest["held"]), "sh", "-c",
                               f"touch {locked}; exec sleep 300"])  # a worker running on it
    try:
        wait_for(locked.exists, 30)
        done = deepctl("executor", "check", str(spec), cwd=tmp_path)
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 0, done.stdout + done.stderr
    new = tree_digest(STANDIN)
    left = {p.name for p in trees.iterdir()}
    assert left == {new} | {digest[n] for n in ("recent1", "recent2", "recent3", "recent4",
                                                "held")}, left

    # a run that finds its tree kept marks it used, and sends nothing
    os.utime(trees / new, (now - 9 * 3600, now - 9 * 3600))
    again = deepctl("executor", "check", str(spec), cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert time.time() - (trees / new).stat().st_mtime < 600
    transfer = json.loads((tmp_path / ".deepctl" / "lab" / "executor-check" / "artifacts"
                           / "executor-reach" / "executor-transfer.json").read_text())
    assert transfer["tree_bytes"] == 0
