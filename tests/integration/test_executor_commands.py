"""``--executor ADDRESS`` on add-node, verify, upgrade, remove-node and reset: every Ansible
run of the command goes through the executor named on the command line only (the spec has
none that works), and the run records say so playbook by playbook."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.harness import HostFarm, HostProfile
from tests.integration.engine_support import deepctl, markers, ready_nodes, write_spec
from tests.integration.test_executor import last_run, make_executor

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
