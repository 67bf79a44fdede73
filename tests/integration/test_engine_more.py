"""The deploy engine, continued: SIGTERM and a second Ctrl-C, a deploy through a bastion with
preflight and ``--json``, ``deepctl logs``, add-node of a control plane and of a GPU node
(failed, then resumed), ``remove-node --force`` of a dead host.

One farm of loopback SSH hosts serves the whole module; each test is its own cluster (its
own spec, state directory and stand-in markers under ``tmp_path``).
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from deepctl.engine.lock import acquire
from deepctl.state import StateDir
from deepctl.state.ledger import load_ledger
from deepctl.state.pending import load_pending
from deepctl.workspace import open_workspace
from tests.harness import HostFarm, HostProfile, TestHost
from tests.harness.fixtures import require_real_sshd_hosts
from tests.integration.engine_support import (
    DEEPCTL,
    STANDIN,
    deepctl,
    markers,
    ready_nodes,
    run_state,
    wait_for,
    write_spec,
)
from tests.integration.test_deploy_cancel import processes_mentioning

pytestmark = pytest.mark.integration

ALL_ROLES = ["control-plane", "etcd", "worker"]


@pytest.fixture(scope="module")
def farm() -> Iterator[HostFarm]:
    require_real_sshd_hosts()
    with HostFarm(pool="function") as hosts:
        hosts.add_many([HostProfile("cp1"), HostProfile("cp2"), HostProfile("wk1"),
                        HostProfile("gpu3", gpu="h100x8")])
        hosts.add_bastion()
        yield hosts


def state_dir(tmp_path: Path) -> Path:
    return tmp_path / ".deepctl" / "lab"


def newest_log(tmp_path: Path, runs_before: int) -> str:
    runs = sorted((state_dir(tmp_path) / "runs").glob("*/deepctl.log"))
    return runs[-1].read_text() if len(runs) > runs_before else ""


def start_deploy(spec: Path, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([str(DEEPCTL), "deploy", str(spec), "--yes", "--skip", "preflight"],
                            cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)


def assert_all_stopped(tmp_path: Path) -> None:
    acquire(StateDir(state_dir(tmp_path)), "test").release()  # the lock is free
    # An ssh that Ansible had started when it was killed (interpreter discovery, `sleep 0`)
    # finishes on its own within moments: give it that, not more.
    deadline = time.monotonic() + 5
    while processes_mentioning(str(tmp_path)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_mentioning(str(tmp_path)) == []


class InventoryLoader(yaml.SafeLoader):
    """Reads deepctl's hosts.yaml (``!unsafe`` strings as plain strings)."""


InventoryLoader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def port_args(host: TestHost) -> list[str]:
    return [] if host.port == 22 else ["--ssh-port", str(host.port)]


# -- signals ----------------------------------------------------------------------------------


def test_sigterm_cancels_then_a_second_sigint_stops_at_once(farm: HostFarm,
                                                            tmp_path: Path) -> None:
    spec = write_spec(tmp_path, farm, {farm["cp1"]: ALL_ROLES}, farm["cp1"])
    (tmp_path / "standin" / "sleep").write_text("60\n")

    # SIGTERM behaves like the first Ctrl-C: Ansible canceled, run canceled, exit 130
    first = start_deploy(spec, tmp_path)
    try:
        wait_for(lambda: "TASK Sleep" in newest_log(tmp_path, 0)
                 and "tasks (ansible-playbook --list-tasks)" in newest_log(tmp_path, 0), 90)
        first.send_signal(signal.SIGTERM)
        out, err = first.communicate(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 130, out + err
    assert "SIGTERM: canceling" in out + err and "canceled during stage kubespray" in err
    assert run_state(tmp_path)["result"] == "canceled"
    assert_all_stopped(tmp_path)

    # a second SIGINT within 5 s: everything deepctl started is killed, exit 130 at once
    second = start_deploy(spec, tmp_path)
    seen: list[str] = []
    sent: list[float] = []

    def read_and_interrupt_again() -> None:
        assert second.stdout is not None
        for line in second.stdout:
            seen.append(line)
            if "SIGINT: canceling" in line and not sent:  # the first one was handled
                second.send_signal(signal.SIGINT)
                sent.append(time.monotonic())

    reader = threading.Thread(target=read_and_interrupt_again, daemon=True)
    reader.start()
    try:
        wait_for(lambda: "TASK Sleep" in newest_log(tmp_path, 1), 90)
        second.send_signal(signal.SIGINT)
        second.wait(timeout=30)
        took = time.monotonic() - sent[0]
        reader.join(timeout=10)
        assert second.stderr is not None
        out, err = "".join(seen), second.stderr.read()
    finally:
        if second.poll() is None:
            second.kill()
    assert second.returncode == 130, out + err
    assert "SIGINT again within 5 s: stopping at once" in out + err
    assert "stopped at once during stage kubespray" in err
    assert took < 10, took
    state = run_state(tmp_path)
    assert (state["result"], state["error"]) == ("canceled", "stopped at once")
    assert_all_stopped(tmp_path)


# -- a bastion, preflight, --json, logs -------------------------------------------------------


def tree_files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_deploy_through_a_bastion_with_preflight_json_and_logs(farm: HostFarm,
                                                               tmp_path: Path) -> None:
    cp1, wk1, bastion = farm["cp1"], farm["wk1"], farm["bastion"]
    tree = tmp_path / "kubespray"
    shutil.copytree(STANDIN, tree)
    before = tree_files(tree)
    spec = write_spec(tmp_path, farm, {cp1: ALL_ROLES, wk1: ["worker"]}, cp1, kubespray=tree,
                      ssh={"bastion": {"address": bastion.address, "port": bastion.port}})
    known = state_dir(tmp_path) / "known_hosts"
    good = known.read_text()
    wrong = farm.known_hosts([bastion]).replace(bastion.host_key_public, cp1.host_key_public)
    known.write_text(good + wrong)

    # --only kubespray after a spec change renders the inventory first (not a stale one)
    open_workspace(spec).render_inventory()  # as the spec was
    data = yaml.safe_load(spec.read_text())
    data["spec"]["hosts"][1]["labels"] = {"team": "ml"}
    spec.write_text(yaml.safe_dump(data, sort_keys=False))
    # ... and Ansible's ssh checks the bastion's host key: a wrong one stops the run (exit 3)
    refused = deepctl("deploy", str(spec), "--yes", "--only", "kubespray", cwd=tmp_path)
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert "ssh refused the host key of the bastion" in refused.stderr
    assert "Host key verification failed." in refused.stderr
    failed_id = str(run_state(tmp_path)["id"])
    # what the run's playbooks read: its own inventory, rendered from the spec as it is now
    inventory = (state_dir(tmp_path) / "runs" / failed_id / "inventory" / "hosts.yaml").read_text()
    assert "!unsafe 'team': !unsafe 'ml'" in inventory
    cfg = (state_dir(tmp_path) / "runs" / failed_id / "ansible.cfg").read_text()
    assert f"ProxyCommand='ssh -W %h:%p -p {bastion.port}" in cfg
    assert f"UserKnownHostsFile={known} -o StrictHostKeyChecking=yes" in cfg

    # the right key: a full deploy, preflight included (through the bastion too), --json
    known.write_text(good + farm.known_hosts([bastion]))
    done = deepctl("deploy", str(spec), "--yes", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]  # one JSON object a line
    kinds = [e["event"] for e in events]
    assert kinds[-1] == "run_finished" and events[-1]["result"] == "succeeded"
    assert {"stages_planned", "stage_started", "playbook_started", "task",
            "stage_finished"} <= set(kinds)
    finished = {e["stage"]: e["status"] for e in events if e["event"] == "stage_finished"}
    assert finished["preflight"] == "succeeded" and finished["kubespray"] == "succeeded"
    assert markers(tmp_path, "wk1") == ["cluster.yml"]
    assert tree_files(tree) == before  # nothing written into the Kubespray tree

    # deepctl logs: the newest run, a run by id prefix, --json, an unknown run
    newest = deepctl("logs", str(spec), cwd=tmp_path)
    assert newest.returncode == 0 and "run succeeded" in newest.stdout
    assert "stage kubespray: TASK Record that cluster.yml ran on this host" in newest.stdout
    old = json.loads(deepctl("logs", str(spec), failed_id[:-2], "--json", cwd=tmp_path).stdout)
    assert old["run"] == failed_id and old["log"].endswith(f"{failed_id}/deepctl.log")
    assert "Host key verification failed" in old["text"]
    unknown = deepctl("logs", str(spec), "nosuchrun", cwd=tmp_path)
    assert unknown.returncode == 2 and "no run matching 'nosuchrun'" in unknown.stderr


# -- add-node of a control plane, remove-node --force ----------------------------------------


def test_add_a_control_plane_then_force_remove_a_dead_node(farm: HostFarm,
                                                          tmp_path: Path) -> None:
    cp1, wk1, cp2 = farm["cp1"], farm["wk1"], farm["cp2"]
    spec = write_spec(tmp_path, farm, {cp1: ["control-plane", "worker"], wk1: ["etcd", "worker"]},
                      cp1)
    (state_dir(tmp_path) / "known_hosts").write_text(farm.known_hosts([cp1, wk1, cp2]))
    original = spec.read_text()
    ready_nodes(cp1, ["cp1", "wk1", "cp2"])  # add-node's verify asks whether cp2 is Ready

    added = deepctl("add-node", str(spec), "--name", "cp2", "--address", cp2.address,
                    *port_args(cp2), "--role", "control-plane", "--yes", cwd=tmp_path)
    assert added.returncode == 0, added.stdout + added.stderr
    # Kubespray's procedure for a control plane: cluster.yml on every host, no scale.yml
    assert [markers(tmp_path, h) for h in ("cp1", "wk1", "cp2")] == [["cluster.yml"]] * 3
    inventory = yaml.load((state_dir(tmp_path) / "inventory" / "hosts.yaml").read_text(),
                          InventoryLoader)
    assert list(inventory["all"]["children"]["kube_control_plane"]["hosts"]) == ["cp1", "cp2"]

    quorum = deepctl("remove-node", str(spec), "wk1", "--yes", cwd=tmp_path)
    assert quorum.returncode == 2 and "etcd loses quorum" in quorum.stderr  # the only member

    cp2.stop()  # dead: --force removes it without contacting it
    try:
        removed = deepctl("remove-node", str(spec), "cp2", "--force", "--yes", cwd=tmp_path)
    finally:
        cp2.start()
    assert removed.returncode == 0, removed.stdout + removed.stderr
    assert markers(tmp_path, "cp2") == ["cluster.yml"]
    deletion = (tmp_path / "standin" / "markers" / "cp1.log").read_text().splitlines()[-1]
    assert deletion.startswith("remove-node.yml limit=all ")
    assert " node=cp2 deleted=cp2 reset_nodes=False allow_ungraceful_removal=True " in deletion
    assert spec.read_text() == original


# -- add-node of a GPU node: failed, then resumed ---------------------------------------------


def test_failed_gpu_add_node_stays_pending_and_resumes(farm: HostFarm, tmp_path: Path) -> None:
    cp1, gpu3 = farm["cp1"], farm["gpu3"]
    spec = write_spec(tmp_path, farm, {cp1: ALL_ROLES}, cp1, addons={"gpu": {"enabled": True}})
    (state_dir(tmp_path) / "known_hosts").write_text(farm.known_hosts([cp1, gpu3]))
    node = {"metadata": {"name": "gpu3"}, "status": {"allocatable": {
        "cpu": "2", "nvidia.com/gpu": "8"}}}
    cp1.set_kube_response("kubectl", "get node gpu3", stdout=json.dumps(node))
    ready_nodes(cp1, ["cp1", "gpu3"])  # add-node's verify asks whether gpu3 is Ready
    command = ("add-node", str(spec), "--name", "gpu3", "--address", gpu3.address,
               *port_args(gpu3), "--gpu", "--yes")
    original = spec.read_text()

    (tmp_path / "standin" / "fail-hosts").write_text("gpu3\n")
    failed = deepctl(*command, cwd=tmp_path)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "stand-in failure injected for gpu3" in failed.stdout + failed.stderr
    said = failed.stdout + failed.stderr
    assert (f"resume with: deepctl add-node {spec} --name gpu3 --address {gpu3.address} --gpu "
            f"{' '.join(port_args(gpu3))} --yes".replace("  ", " ")) in said
    # the failure came before gpu3 joined: the spec is as it was, and the error says so
    assert spec.read_text() == original
    assert (f"gpu3 is not in {spec}: add-node writes it there once it has joined; until then "
            f"it is pending in {state_dir(tmp_path) / 'pending-nodes.json'}. To drop it "
            f"instead: `deepctl remove-node {spec} gpu3`") in said
    assert list(load_pending(StateDir(state_dir(tmp_path)))) == ["gpu3"]
    assert [(r["command"], r["result"]) for r in json.loads(
        deepctl("runs", str(spec), "--json", cwd=tmp_path).stdout)["runs"]] == [
        ("add-node", "failed")]

    (tmp_path / "standin" / "fail-hosts").unlink()
    resumed = deepctl(*command, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "resuming add-node gpu3: it is not in the spec yet and still pending" in resumed.stdout
    text = spec.read_text()
    assert text.count("name: gpu3") == 1
    assert f"gpu3 has joined: added it to {spec}" in resumed.stdout
    assert load_pending(StateDir(state_dir(tmp_path))) == {}
    assert markers(tmp_path, "gpu3") == ["facts.yml", "facts.yml", "scale.yml"]
    assert markers(tmp_path, "cp1") == ["facts.yml", "facts.yml"]
    asked = [c["argv"] for c in cp1.calls("kubectl")]
    assert ["kubectl", "get", "node", "gpu3", "--output", "json"] in asked
    state = run_state(tmp_path)
    assert state["stages"]["gpu-ready"]["status"] == "succeeded"  # type: ignore[index]
    log = (state_dir(tmp_path) / "runs" / str(state["id"]) / "deepctl.log").read_text()
    assert "gpu3: allocatable nvidia.com/gpu=8" in log


def test_a_host_that_failed_to_join_is_dropped_with_remove_node(farm: HostFarm,
                                                                 tmp_path: Path) -> None:
    cp1, wk1 = farm["cp1"], farm["wk1"]
    spec = write_spec(tmp_path, farm, {cp1: ALL_ROLES}, cp1)
    (state_dir(tmp_path) / "known_hosts").write_text(farm.known_hosts([cp1, wk1]))
    original = spec.read_text()
    (tmp_path / "standin" / "fail-hosts").write_text("wk1\n")
    failed = deepctl("add-node", str(spec), "--name", "wk1", "--address", wk1.address,
                     *port_args(wk1), "--yes", cwd=tmp_path)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert f"To drop it instead: `deepctl remove-node {spec} wk1`" in failed.stderr
    assert spec.read_text() == original  # it never joined: never in the spec
    (tmp_path / "standin" / "fail-hosts").unlink()

    # Kubespray touched it (facts.yml ran on it): dropping it is Kubespray's remove-node.yml,
    # with the pending host in the run's inventory
    dropped = deepctl("remove-node", str(spec), "wk1", "--yes", cwd=tmp_path)
    assert dropped.returncode == 0, dropped.stdout + dropped.stderr
    assert "removed wk1 (run " in dropped.stdout
    removal = (tmp_path / "standin" / "markers" / "cp1.log").read_text().splitlines()[-1]
    assert removal.startswith("remove-node.yml ") and " node=wk1 " in removal
    assert spec.read_text() == original and not spec.with_name(spec.name + ".bak").exists()
    state = StateDir(state_dir(tmp_path))
    assert load_pending(state) == {}
    assert [k for k in load_ledger(state) if k.startswith("add-node/")] == []


# -- add-node and upgrade one stage at a time (--only, --skip) ---------------------------------


def test_node_commands_run_selected_stages_and_finish_later(farm: HostFarm,
                                                           tmp_path: Path) -> None:
    cp1, wk1 = farm["cp1"], farm["wk1"]
    spec = write_spec(tmp_path, farm, {cp1: ALL_ROLES}, cp1, kube_version="1.34.7")
    (state_dir(tmp_path) / "known_hosts").write_text(farm.known_hosts([cp1, wk1]))
    ready_nodes(cp1, ["cp1", "wk1"])  # add-node's verify asks whether wk1 is Ready
    original = spec.read_text()
    add = ("add-node", str(spec), "--name", "wk1", "--address", wk1.address, *port_args(wk1))

    # a new host has nothing done: verify alone would check a node that never joined
    early = deepctl(*add, "--only", "verify", "--yes", cwd=tmp_path)
    assert early.returncode == 2, early.stdout + early.stderr
    assert "add-node stage verify builds on facts, scale, spec, which has not run yet" in (
        early.stderr)
    assert "without the --from/--only/--skip that leaves out facts, scale, spec" in early.stderr
    assert spec.read_text() == original and load_pending(StateDir(state_dir(tmp_path))) == {}

    checked = deepctl(*add, "--only", "preflight", "--json", "--yes", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    finished = json.loads(checked.stdout.splitlines()[-1])
    assert (finished["event"], finished["finished"], finished["remaining"]) == (
        "run_finished", False, ["facts", "scale", "spec"])
    assert spec.read_text() == original and markers(tmp_path, "wk1") == []  # not joined yet
    assert list(load_pending(StateDir(state_dir(tmp_path)))) == ["wk1"]  # not added yet
    shown = deepctl("runs", str(spec), cwd=tmp_path)
    assert "succeeded (not finished: facts, scale, spec to run)" in shown.stdout
    ahead = deepctl(*add, "--only", "scale", "--yes", cwd=tmp_path)  # facts never ran
    assert ahead.returncode == 2, ahead.stdout + ahead.stderr
    assert ("add-node stage scale builds on facts, which did not succeed for this add-node"
            in ahead.stderr)
    assert "resuming" not in ahead.stdout + ahead.stderr  # refused before anything resumes

    resumed = deepctl(*add, "--yes", cwd=tmp_path)  # the same command finishes it
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "resuming add-node wk1" in resumed.stdout
    assert "[preflight] skipped (up to date)" in resumed.stdout
    assert "added wk1 (run " in resumed.stdout
    assert markers(tmp_path, "wk1") == ["facts.yml", "scale.yml"]
    assert load_pending(StateDir(state_dir(tmp_path))) == {}

    upgrade = ("upgrade", str(spec), "--to", "1.35.4", "--yes")
    blind = deepctl(*upgrade, "--only", "spec", cwd=tmp_path)  # the spec alone would lie
    assert blind.returncode == 2, blind.stdout + blind.stderr
    assert ("upgrade stage spec builds on upgrade, which did not succeed for this upgrade"
            in blind.stderr)
    assert f"run `deepctl upgrade {spec} --to 1.35.4 --yes`" in blind.stderr
    assert "version: 1.34.7" in spec.read_text()
    history = json.loads(deepctl("runs", str(spec), "--json", cwd=tmp_path).stdout)["runs"]
    assert [r["command"] for r in history] == ["add-node", "add-node"]  # refused: no run
    first = deepctl(*upgrade, "--only", "upgrade", cwd=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "selected stages done, not finished: spec still to run" in first.stdout
    assert "resuming" not in first.stdout
    assert (f"upgrade is not finished: spec still to run (not selected); finish with: "
            f"deepctl upgrade {spec} --to 1.35.4 --yes") in first.stdout + first.stderr
    assert "version: 1.34.7" in spec.read_text()
    rest = deepctl(*upgrade, cwd=tmp_path)
    assert rest.returncode == 0, rest.stdout + rest.stderr
    assert "[upgrade] skipped (up to date)" in rest.stdout
    assert 'version: "1.35.4"' in spec.read_text()
    upgrades = [line for line in (tmp_path / "standin" / "markers" / "cp1.log").read_text()
                .splitlines() if line.startswith("upgrade-cluster.yml")]
    assert len(upgrades) == 1  # Kubespray's upgrade ran once
