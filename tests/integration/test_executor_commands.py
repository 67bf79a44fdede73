"""``--executor ADDRESS`` on add-node, verify, upgrade, remove-node and reset: every Ansible
run of the command goes through the executor named on the command line only (the spec has
none that works), and the run records say so playbook by playbook."""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from deepctl.kubespray.downloads import evaluate_downloads
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
from tests.integration.test_artifacts_list import DOWNLOAD_YML, KUBESPRAY
from tests.integration.test_deploy_cancel import processes_mentioning
from tests.integration.test_engine_more import InventoryLoader
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


MIRROR_FILES, MIRROR_REGISTRY = "http://127.0.0.1:9/files", "127.0.0.1:9"  # nothing is fetched
URL = re.compile(r"\b(?:https?|oci)://[^\s\"'<>]+")


def job_texts(job: Path) -> dict[str, str]:
    """Every text file of a worker's job as the executor unpacked it (keys and the facts
    and artifacts it carries back left out)."""
    out = {}
    for path in sorted(job.rglob("*")):
        relative = path.relative_to(job)
        if path.is_file() and relative.parts[0] not in ("keys", "artifacts"):
            out[str(relative)] = path.read_text(encoding="utf-8", errors="replace")
    return out


def test_an_offline_deploy_through_the_executor_takes_everything_from_the_mirror(
        ssh_host_farm: HostFarm, tmp_path: Path) -> None:
    """spec.offline reaches the worker's job: its inventory points every download at the
    mirror (Kubespray's own evaluation of it, where the real tree is here), nothing in the job
    names another URL or a proxy, and Ansible on the executor resolves the mirror settings."""
    (cp1,) = ssh_host_farm.add_many([HostProfile("cp1")])
    executor = make_executor(ssh_host_farm)
    spec = write_spec(tmp_path, ssh_host_farm, {cp1: ["control-plane", "etcd", "worker"]}, cp1)
    use_executor(spec, ssh_host_farm, executor)
    data = yaml.safe_load(spec.read_text(encoding="utf-8"))
    data["spec"]["offline"] = {"files": MIRROR_FILES, "registry": MIRROR_REGISTRY,
                               "insecureRegistry": True}
    data["spec"]["kubesprayVars"]["standin_note"] = (  # templated by Ansible on the executor
        "files_repo={{ files_repo }} registry_host={{ registry_host }} "
        "kube_image_repo={{ kube_image_repo }} github_url={{ github_url }}")
    spec.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    (tmp_path / "standin" / "sleep").write_text("15\n")  # a window to copy the job there
    deploy = subprocess.Popen([str(DEEPCTL), "deploy", str(spec), "--yes", "--skip", "preflight"],
                              cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, stdin=subprocess.DEVNULL)
    runs = tmp_path / ".deepctl" / "lab" / "runs"
    jobs = executor.dir / "home" / ".cache" / "deepctl" / "jobs"
    try:
        wait_for(lambda: any("TASK Sleep" in p.read_text() for p in runs.glob("*/deepctl.log")),
                 90)
        (job,) = [p for p in jobs.iterdir() if "-cluster-" in p.name]
        job_copy = tmp_path / "job"
        shutil.copytree(job, job_copy, symlinks=True)
        out, err = deploy.communicate(timeout=300)
    finally:
        if deploy.poll() is None:
            deploy.kill()
    assert deploy.returncode == 0, out + err

    # Ansible on the executor took the mirror settings from the job's inventory
    (line,) = (tmp_path / "standin" / "markers" / "cp1.log").read_text().splitlines()
    assert (f"files_repo={MIRROR_FILES} registry_host={MIRROR_REGISTRY} "
            f"kube_image_repo={MIRROR_REGISTRY} github_url={MIRROR_FILES}/github.com") in line
    # the job as the worker had it: the offline variables, and no URL but the mirror's
    texts = job_texts(job_copy)
    offline = yaml.load(texts["inventory/group_vars/all/deepctl-offline.yml"], InventoryLoader)
    assert (offline["files_repo"], offline["registry_host"]) == (MIRROR_FILES, MIRROR_REGISTRY)
    downloads = {k: v for k, v in offline.items() if k.endswith("_download_url")}
    assert downloads and all(v.startswith("{{ files_repo }}/") for v in downloads.values())
    urls = {url for text in texts.values() for url in URL.findall(text)}
    assert urls and {urlsplit(u).netloc for u in urls} == {MIRROR_REGISTRY}, urls  # the mirrors
    env = json.loads(texts.get("env/envvars") or "{}")
    assert not [k for k in env if k.lower().endswith("_proxy")], env
    # Kubespray's own evaluation of that inventory: every file and image from the mirror
    if (KUBESPRAY / DOWNLOAD_YML).is_file():
        (items,) = evaluate_downloads(KUBESPRAY, job_copy / "inventory", ["cp1"]).values()
        assert items
        for item in items:
            where = f"{item.repo}:{item.tag}" if item.container else str(item.url)
            assert where.startswith(MIRROR_REGISTRY if item.container else MIRROR_FILES), item
