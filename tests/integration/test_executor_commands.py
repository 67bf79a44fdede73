"""``--executor ADDRESS`` on add-node, verify, upgrade, remove-node and reset: every Ansible
run of the command goes through the executor named on the command line only (the spec has
none that works), and the run records say so playbook by playbook."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.harness import HostFarm, HostProfile
from tests.integration.engine_support import (
    DEEPCTL,
    deepctl,
    markers,
    ready_nodes,
    run_state,
    wait_for,
    write_spec,
)
from tests.integration.test_deploy_cancel import processes_mentioning
from tests.integration.test_executor import last_run, make_executor, use_executor

pytestmark = pytest.mark.integration

ON_EXECUTOR = "/.cache/deepctl/"  # where the worker keeps the tree and unpacks each job


def playbook_runs(run_dir: Path) -> dict[str, bool]:
    """``STAGE/IDENT`` of each playbook the run made -> whether it ran on the executor (its
    command names paths there, and bytes were sent to it)."""
    out = {}
    for artifacts in sorted((run_dir / "ansible").glob("*/artifacts/*")):
        command = (artifacts / "command").read_text(encoding="utf-8")
        out[f"{artifacts.parent.parent.name}/{artifacts.name}"] = (
            ON_EXECUTOR in command and (artifacts / "executor-transfer.json").is_file())
    return out


def test_every_command_runs_ansible_on_the_executor_given_by_the_option(
        ssh_host_farm: HostFarm, tmp_path: Path) -> None:
    cp1, wk2 = ssh_host_farm.add_many([HostProfile("cp1"), HostProfile("wk2")])
    executor = make_executor(ssh_host_farm)
    spec = write_spec(tmp_path, ssh_host_farm, {cp1: ["control-plane", "etcd", "worker"]}, cp1,
                      kube_version="1.34.7")
    if executor.port != 22:  # the option gives the address; the port comes from the spec
        data = yaml.safe_load(spec.read_text(encoding="utf-8"))
        data["spec"]["executor"] = {"address": "127.0.0.250", "port": executor.port}  # dead
        spec.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    known = tmp_path / ".deepctl" / "lab" / "known_hosts"
    known.write_text(ssh_host_farm.known_hosts([cp1, wk2, executor]), encoding="ascii")
    option = ["--executor", executor.address]

    done = deepctl("deploy", str(spec), "--yes", "--skip", "preflight",
                   *([] if executor.port == 22 else option), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    deployed = playbook_runs(last_run(tmp_path))
    assert deployed and set(deployed.values()) == {executor.port != 22}, deployed

    ready_nodes(cp1, ["cp1", "wk2"])
    port = [] if wk2.port == 22 else ["--ssh-port", str(wk2.port)]
    added = deepctl("add-node", str(spec), "--name", "wk2", "--address", wk2.address, *port,
                    "--yes", "--skip", "preflight", *option, cwd=tmp_path)
    assert added.returncode == 0, added.stdout + added.stderr
    assert markers(tmp_path, "wk2") == ["facts.yml", "scale.yml"]
    runs = playbook_runs(last_run(tmp_path))
    # verify runs after the spec was rewritten with wk2 (and reloaded): still there
    assert {"facts/facts", "scale/scale", "verify/verify"} <= set(runs), runs
    assert all(runs.values()), runs

    for argv in (["verify", str(spec)],
                 ["upgrade", str(spec), "--to", "1.35.4", "--yes"],
                 ["remove-node", str(spec), "wk2", "--yes"],
                 ["reset", str(spec), "--yes"]):
        done = deepctl(*argv, *option, cwd=tmp_path)
        assert done.returncode == 0, [*argv, done.stdout, done.stderr]
        runs = playbook_runs(last_run(tmp_path))
        assert runs and all(runs.values()), (argv, runs)

    assert markers(tmp_path, "wk2")[-1] == "remove-node.yml"
    assert markers(tmp_path, "cp1")[-3:] == ["upgrade-cluster.yml", "remove-node.yml",
                                             "reset.yml"]
    assert executor.address not in spec.read_text(encoding="utf-8")  # the option stays out
    jobs = executor.dir / "home" / ".cache" / "deepctl" / "jobs"
    assert not jobs.exists() or list(jobs.iterdir()) == []



def test_sigterm_stops_the_worker_on_the_executor_and_a_rerun_resumes(
        ssh_host_farm: HostFarm, tmp_path: Path) -> None:
    """SIGTERM (a service manager, a CI runner's timeout) as Ctrl-C: the worker, its
    ansible-playbook and their SSH masters on the executor stop within 10 s; the run is
    recorded canceled at the task it was in; a plain rerun resumes there."""
    (cp1,) = ssh_host_farm.add_many([HostProfile("cp1")])
    executor = make_executor(ssh_host_farm)
    spec = write_spec(tmp_path, ssh_host_farm, {cp1: ["control-plane", "etcd", "worker"]}, cp1)
    use_executor(spec, ssh_host_farm, executor)
    (tmp_path / "standin" / "sleep").write_text("60\n")
    first = subprocess.Popen([str(DEEPCTL), "deploy", str(spec), "--yes", "--skip", "preflight"],
                             cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, stdin=subprocess.DEVNULL)
    runs = tmp_path / ".deepctl" / "lab" / "runs"
    jobs = executor.dir / "home" / ".cache" / "deepctl" / "jobs"
    try:
        wait_for(lambda: any("TASK Sleep" in p.read_text() for p in runs.glob("*/deepctl.log")),
                 90)
        (job,) = [p.name for p in jobs.iterdir() if "-cluster-" in p.name]
        masters = "/tmp/deepctl-cp-" + job.rsplit("-", 1)[1]  # the job's ssh control sockets
        assert processes_mentioning(str(jobs))  # the worker and ansible-playbook run there
        wait_for(lambda: bool(processes_mentioning(masters)), 30)  # Ansible's ssh to cp1
        assert processes_mentioning(masters)
        first.send_signal(signal.SIGTERM)
        wait_for(lambda: not processes_mentioning(str(jobs)) and not processes_mentioning(masters),
                 10)
        assert processes_mentioning(str(jobs)) == [], "the worker outlived SIGTERM by 10 s"
        assert processes_mentioning(masters) == []
        out, err = first.communicate(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 130, out + err
    assert "SIGTERM: canceling" in out + err and "canceled during stage kubespray" in err
    state = run_state(tmp_path)
    assert (state["result"], state["failed_stage"]) == ("canceled", "kubespray"), state
    stage = state["stages"]["kubespray"]  # type: ignore[index]
    assert stage["status"] == "canceled"
    assert stage["tasks"][-1]["task"] == "Sleep as the stand-in was told to"
    assert not jobs.exists() or list(jobs.iterdir()) == []  # the job is gone from there too
    assert markers(tmp_path, "cp1") == []

    (tmp_path / "standin" / "sleep").unlink()
    again = deepctl("deploy", str(spec), "--yes", "--skip", "preflight", cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"resuming deploy {state['id']}" in again.stdout + again.stderr
    assert run_state(tmp_path)["result"] == "succeeded"
    assert markers(tmp_path, "cp1") == ["cluster.yml"]
