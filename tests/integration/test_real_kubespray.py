"""deepctl against the REAL Kubespray v2.31.0 on isolated loopback hosts, to its first download.

Three isolated hosts (own root on a tmpfs overlay, own namespaces; tests/harness/isolated.py)
are shared by the module; real Kubespray installs packages on them from the Debian mirror and
stops where it first needs the internet: every download URL points at a loopback port where
nothing listens. Four real runs in all, the first three each depending on the one before:

1. ``deploy``: real ``cluster.yml`` to the first download; tasks reached, message, run record.
2. ``deploy`` again: resumes at kubespray (earlier stages up to date); SIGTERM mid-run: exit 130,
   no Ansible or ssh process left, the run recorded as canceled and resumable.
3. ``add-node`` of a worker with ``spec.offline`` at a loopback mirror that records what it
   is asked for: real ``playbooks/facts.yml`` then ``scale.yml --limit`` to the same boundary;
   Kubespray's first download asks the mirror for runc at its files_repo path, and the
   message names that URL.
4. ``deploy`` through an executor (an isolated host with ansible-runner and Ansible) with a
   state directory of its own: the same boundary and explanation as run 1; the Kubespray tree
   is sent once, by the executor check at the deploy's start, and not again.

Skipped with a reason without ``DEEPCTL_TEST_KUBESPRAY`` (``.ci/run`` sets it).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml

from tests.harness import HostFarm, HostProfile, TestHost
from tests.harness.fixtures import require_real_sshd_hosts
from tests.harness.isolated import missing_isolation
from tests.integration.engine_support import DEEPCTL, deepctl, run_state
from tests.integration.executor_support import isolated_executor, use_executor
from tests.integration.real_kubespray_support import (
    URL_ROOTS,
    closed_loopback_url,
    job_events,
    mirror_vars,
    real_kubespray_tree,
    real_spec,
    run_dirs,
    skip_reason,
)
from tests.integration.test_deploy_cancel import processes_mentioning, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.real_kubespray]

RUN_TIMEOUT = 1200  # one real run takes 2-3 min here; far more under heavy load
# Kubespray v2.31.0 reaches its first download after ~250 of cluster.yml's tasks (264 seen)
TASKS_BEFORE_DOWNLOAD = range(180, 400)


@dataclass
class RealCluster:
    """The module's hosts and the cluster directory the three runs share, in order."""

    farm: HostFarm
    cp1: TestHost
    wk1: TestHost
    wk2: TestHost
    dir: Path
    tree: Path
    mirror: str
    outputs: list[str] = field(default_factory=list)

    @property
    def spec(self) -> Path:
        return self.dir / "cluster.yaml"


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealCluster]:
    tree = real_kubespray_tree()
    if tree is None:
        pytest.skip(skip_reason())
    require_real_sshd_hosts()
    reason = missing_isolation()
    if reason is not None:
        pytest.skip(f"isolated test hosts unavailable: {reason}")
    with HostFarm(pool="function") as farm:
        cp1, wk1, wk2 = farm.add_many([HostProfile(name, isolated=True) for name in ("kcp1", "kwk1", "kwk2")])
        directory = tmp_path_factory.mktemp("real-kubespray")
        mirror = closed_loopback_url() + "/mirror"
        real_spec(directory, farm, {cp1: ["control-plane", "etcd", "worker"], wk1: ["worker"]},
                  tree, mirror_vars(mirror))
        yield RealCluster(farm, cp1, wk1, wk2, directory, tree, mirror)


def task_starts(run_dir: Path, playbook: str) -> list[str]:
    return [e["event_data"]["task"] for e in job_events(run_dir)
            if e["event"] == "playbook_on_task_start"
            and e["event_data"].get("playbook", "").endswith(playbook)]


def failed_events(run_dir: Path) -> list[dict[str, Any]]:
    """Failures that stopped a host (not those of tasks with ``ignore_errors``)."""
    return [e for e in job_events(run_dir)
            if e["event"] == "runner_on_failed" and not e["event_data"].get("ignore_errors")]


def newest_run(real: RealCluster) -> Path:
    return sorted((real.dir / ".deepctl" / "lab" / "runs").iterdir())[-1]


def assert_stopped_at_the_first_download(run_dir: Path, output: str, mirror: str) -> None:
    """cluster.yml ran to Kubespray's first download and failed there, explained (locally
    and through an executor alike)."""
    tasks = task_starts(run_dir, "cluster.yml")
    assert len(tasks) in TASKS_BEFORE_DOWNLOAD, (len(tasks), tasks[-5:])
    failed = failed_events(run_dir)
    assert failed, output
    assert {e["event_data"]["host"] for e in failed} <= {"kcp1", "kwk1"}
    assert [e["event_data"]["task"] for e in failed] == ["Download_file | Download item"] * 2
    assert {e["event_data"]["role"] for e in failed} == {"container-engine/runc"}
    # what the user is told: the component, that Kubespray hides this task's output and how
    # to show it, and the URL it tried (what an air-gapped user must put into the mirror)
    assert "component container-engine/runc" in output, output
    assert "Kubespray hides this task's output" in output and "unsafe_show_logs: true" in output
    url = f"{mirror}/github/opencontainers/runc/releases/download/"
    assert f"url: {url}" in output, output
    # ... and already on the first retry, while Kubespray waited for the next attempt
    assert f"attempt 1 of 5 failed (output hidden (no_log)), retrying; it tried {url}" in output
    assert "after 5 attempts" in output and "attempt 1 of 5 failed" in output, output


def test_deploy_runs_real_cluster_yml_to_the_first_download(real: RealCluster) -> None:
    result = deepctl("deploy", str(real.spec), "--yes", cwd=real.dir, timeout=RUN_TIMEOUT)
    output = result.stdout + result.stderr
    real.outputs.append(output)
    assert result.returncode == 1, output
    assert_stopped_at_the_first_download(newest_run(real), output, real.mirror)
    state = run_state(real.dir)
    assert (state["result"], state["failed_stage"]) == ("failed", "kubespray")
    stages = state["stages"]
    assert isinstance(stages, dict)
    assert stages["preflight"]["status"] == stages["inventory"]["status"] == "succeeded"
    assert stages["kubespray"]["status"] == "failed"
    # the real Kubespray changed the isolated hosts, never this machine
    assert real.cp1.run("cat /etc/hostname").strip() == "kcp1"
    assert real.cp1.ssh("test -d /etc/kubernetes").returncode == 0
    assert not Path("/etc/kubernetes/ssl").exists() or Path("/etc/kubernetes/ssl").is_symlink()


def test_second_deploy_resumes_at_kubespray_and_sigterm_leaves_it_resumable(real: RealCluster) -> None:
    if not real.outputs:
        pytest.skip("needs the failed deploy of the test before")
    runs_before = len(list((real.dir / ".deepctl" / "lab" / "runs").iterdir()))
    lines: list[str] = []
    process = subprocess.Popen([str(DEEPCTL), "deploy", str(real.spec), "--yes"], cwd=real.dir,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               stdin=subprocess.DEVNULL,
                               env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"})
    reader = threading.Thread(target=lambda: lines.extend(iter(process.stdout.readline, "")),  # type: ignore[union-attr]
                              daemon=True)
    reader.start()
    try:
        wait_for(lambda: sum("[kubespray] TASK" in line for line in lines) >= 5, RUN_TIMEOUT / 4)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    reader.join(timeout=10)
    output = "".join(lines)
    assert process.returncode == 130, output
    assert "resuming deploy" in output and "continuing at kubespray" in output, output
    stages = run_state(real.dir)["stages"]
    assert isinstance(stages, dict)
    assert stages["preflight"].get("status") == stages["inventory"].get("status") == "skipped", stages
    assert len(list((real.dir / ".deepctl" / "lab" / "runs").iterdir())) == runs_before + 1
    state = run_state(real.dir)
    assert state["result"] == "canceled", state
    time.sleep(1)
    assert processes_mentioning(str(real.dir)) == []  # no ansible-playbook, no ssh left
    ledger = yaml.safe_load((real.dir / ".deepctl" / "lab" / "stages.json").read_text())
    assert {"preflight", "inventory"} <= set(ledger["stages"]) and "kubespray" not in ledger["stages"]


class RecordingMirror(BaseHTTPRequestHandler):
    """A loopback mirror that answers preflight's probes (HEAD of a file, the registry's /v2/)
    and refuses every download (404), recording what was asked for."""

    asked: ClassVar[list[tuple[str, str]]] = []

    def _answer(self, status: int) -> None:
        self.asked.append((self.command, self.path))
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_HEAD(self) -> None:
        self._answer(200)

    def do_GET(self) -> None:
        self._answer(200 if self.path.rstrip("/") == "/v2" else 404)

    def log_message(self, *_: Any) -> None:
        return None


def test_add_node_with_spec_offline_runs_real_facts_and_scale_to_the_mirror(
        real: RealCluster) -> None:
    if not real.outputs:
        pytest.skip("needs the deploy of the tests before")
    server = ThreadingHTTPServer(("127.0.0.1", 0), RecordingMirror)
    RecordingMirror.asked = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    data = yaml.safe_load(real.spec.read_text(encoding="utf-8"))
    data["spec"]["kubesprayVars"] = {k: v for k, v in data["spec"]["kubesprayVars"].items()
                                     if k not in URL_ROOTS}  # spec.offline sets them now
    data["spec"]["offline"] = {"files": f"{base}/files",
                               "registry": f"127.0.0.1:{server.server_address[1]}",
                               "insecureRegistry": True}
    real.spec.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    known_hosts = real.dir / ".deepctl" / "lab" / "known_hosts"
    known_hosts.write_text(known_hosts.read_text(encoding="ascii") + real.farm.known_hosts([real.wk2]))
    port = [] if real.wk2.port == 22 else ["--ssh-port", str(real.wk2.port)]
    try:
        result = deepctl("add-node", str(real.spec), "--name", "kwk2", "--address",
                         real.wk2.address, *port, "--yes", cwd=real.dir, timeout=RUN_TIMEOUT)
    finally:
        server.shutdown()
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    run_dir = newest_run(real)
    events = job_events(run_dir)
    facts_hosts = {e["event_data"]["host"] for e in events if e["event"] == "runner_on_ok"
                   and e["event_data"]["playbook"].endswith("playbooks/facts.yml")}
    assert facts_hosts == {"kcp1", "kwk1", "kwk2"}
    scale = [e for e in events if e["event_data"].get("playbook", "").endswith("scale.yml")]
    assert {e["event_data"]["host"] for e in scale if "host" in e["event_data"]} == {"kwk2"}
    assert len(task_starts(run_dir, "scale.yml")) >= 100
    failed = failed_events(run_dir)
    assert [e["event_data"]["host"] for e in failed] == ["kwk2"]
    assert failed[0]["event_data"]["task"].startswith("Download_file")
    # Kubespray's first download asked the mirror for runc at its files_repo path
    runc = "/files/github.com/opencontainers/runc/releases/download/"
    gets = [path for method, path in RecordingMirror.asked if method == "GET"]
    assert any(path.startswith(runc) and path.endswith("/runc.amd64") for path in gets), gets
    assert f"{base}{runc}" in output, output  # the URL the air-gapped user must mirror
    # scale.yml failed: kwk2 never joined, so it is pending outside the spec, and the error says so
    hosts = yaml.safe_load(real.spec.read_text(encoding="utf-8"))["spec"]["hosts"]
    assert "kwk2" not in [h["name"] for h in hosts]
    assert f"kwk2 is not in {real.spec}: add-node writes it there once it has joined" in output


CLOCK = re.compile(r"^\d\d:\d\d:\d\dZ ")


def failure_report(output: str) -> list[list[str]]:
    """The failure report's first line and its lines per failed host (task, component, file,
    what the result said, URL), hosts in name order; the clock and the hints (paths of this
    run) left out. The first line quotes the host that failed first, which varies from run
    to run (forks end in any order): it is written HOST, once checked to be a failed one."""
    lines = [CLOCK.sub("", line) for line in output.splitlines()]
    start = next(i for i, line in enumerate(lines) if line.startswith("stage kubespray failed"))
    first = re.match(r"stage kubespray failed: \S+ failed on (.+?) \(rc \d+\): ([\w.-]+): ",
                     lines[start])
    assert first is not None and first.group(2) in first.group(1).split(", "), lines[start]
    lines[start] = lines[start].replace(f"): {first.group(2)}: ", "): HOST: ", 1)
    report: list[list[str]] = []
    for line in lines[start + 1:]:
        if line.startswith("    ") and report:
            report[-1].append(line)
        elif line.startswith("  ") and " at task " in line:
            report.append([line])
        else:
            break
    return [[lines[start]], *sorted(report)]


def transfer(artifacts: Path) -> dict[str, int]:
    """Bytes an executor job sent (``tree_bytes``, ``job_bytes``)."""
    data: dict[str, int] = json.loads((artifacts / "executor-transfer.json").read_text())
    return data


def test_deploy_through_an_executor_stops_at_the_same_download(real: RealCluster,
                                                                tmp_path: Path) -> None:
    """The same hosts and mirror, Ansible on an isolated executor host: the same boundary and
    explanation; the tree is sent once (by the executor check at the deploy's start)."""
    executor = isolated_executor(real.farm, "kexec")
    spec = real_spec(tmp_path, real.farm, {real.cp1: ["control-plane", "etcd", "worker"],
                                           real.wk1: ["worker"]}, real.tree, mirror_vars(real.mirror))
    use_executor(spec, real.farm, executor)
    result = deepctl("deploy", str(spec), "--yes", cwd=tmp_path, timeout=RUN_TIMEOUT)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    run_dir = run_dirs(tmp_path)[-1]
    assert_stopped_at_the_first_download(run_dir, output, real.mirror)
    assert run_state(tmp_path)["failed_stage"] == "kubespray"
    if real.outputs:  # the local run of the first test: word for word the same explanation
        local = failure_report(real.outputs[0])
        assert len(local) == 3 and failure_report(output) == local, (output, local)
    command = (run_dir / "ansible" / "kubespray" / "artifacts" / "cluster" / "command").read_text()
    assert "/.cache/deepctl/trees/" in command  # cluster.yml ran on the executor
    state = tmp_path / ".deepctl" / "lab"
    first = transfer(state / "executor-check" / "artifacts" / "executor-reach")
    job = transfer(run_dir / "ansible" / "kubespray" / "artifacts" / "cluster")
    again = deepctl("executor", "check", str(spec), cwd=tmp_path, timeout=RUN_TIMEOUT)
    assert again.returncode == 0, again.stdout + again.stderr
    second = transfer(state / "executor-check" / "artifacts" / "executor-reach")
    print(f"executor bytes sent: check {first}, cluster.yml {job}, check again {second}")
    assert first["tree_bytes"] > 1_000_000  # Kubespray's tree, once
    assert job["tree_bytes"] == second["tree_bytes"] == 0 < job["job_bytes"]
    trees = list((executor.dir / "home" / ".cache" / "deepctl" / "trees").iterdir())
    assert len(trees) == 1 and (trees[0] / "roles" / "download").is_dir()
