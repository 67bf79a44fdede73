"""`deepctl status` end to end against a stand-in Kubernetes API (tests/fixtures/k8s_api_standin):
the real kubernetes client, the real CLI (CliRunner in-process; a subprocess for the API-down and
--watch cases), a state directory with preflight facts and run history as deploy writes them."""

from __future__ import annotations

import json
import os
import pty
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from deepctl.cli.application import app
from deepctl.preflight.model import Gpu, HostFacts
from deepctl.state import StateDir
from tests.fixtures import k8s_objects as k
from tests.fixtures.k8s_api_standin import KubeApiStandin

TOKEN = "standin-token-7f3a9c"  # must never appear in any output
DEEPCTL = [sys.executable, "-m", "deepctl"]


@dataclass
class Lab:
    spec: Path
    state: StateDir
    api: KubeApiStandin

    def status(self, *args: str) -> Any:
        result = CliRunner().invoke(app, ["status", str(self.spec), *args], env={"COLUMNS": "220"})
        assert TOKEN not in result.output
        return result

    def status_json(self) -> tuple[int, dict[str, Any]]:
        result = self.status("--json")
        return result.exit_code, json.loads(result.stdout)


def rows(screen: str) -> list[list[str]]:
    """The body rows of every table on a screen, as lists of cell texts (one line per row)."""
    return [[cell.strip() for cell in line.strip().strip("│").split("│")]
            for line in screen.splitlines() if line.startswith("│")]


def write_facts(state: StateDir, host: str, gpus: int) -> None:
    rows = [Gpu(i, "NVIDIA H100 80GB HBM3", f"GPU-{host}-{i}", 81559, "570.133.20", "Disabled")
            for i in range(gpus)]
    state.facts_dir.mkdir(parents=True, exist_ok=True)
    (state.facts_dir / f"{host}.json").write_text(json.dumps(HostFacts(hostname=host, gpus=rows).to_json()))


def write_run(state: StateDir, run_id: str, started: str, result: str, failed: str | None) -> None:
    run_dir = state.runs_dir / run_id
    run_dir.mkdir(parents=True)
    (run_dir / "state.json").write_text(json.dumps({
        "version": 1, "id": run_id, "command": "deploy", "started_at": started,
        "finished_at": started, "duration_s": 1234.0, "result": result, "failed_stage": failed}))


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    spec = tmp_path / "cluster.yaml"
    spec.write_text(k.SPEC_YAML)
    state = StateDir(tmp_path / ".deepctl" / "lab")
    write_facts(state, "gpu1", 8)
    write_facts(state, "gpu2", 8)
    write_run(state, "20261126T090000Z-deploy-aaaa", "2026-11-26T09:00:00Z", "failed", "gpu")
    write_run(state, "20261127T100000Z-deploy-bbbb", "2026-11-27T10:00:00Z", "succeeded", None)
    api = KubeApiStandin(token=TOKEN).add(*k.healthy_gpu_cluster()).start()
    api.write_kubeconfig(state.kubeconfig)
    yield Lab(spec, state, api)
    api.stop()


def test_healthy_cluster_screen(lab: Lab) -> None:
    result = lab.status()
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "cluster lab: healthy" in out
    assert f"API {lab.api.url} (kubeconfig {lab.state.kubeconfig})" in out
    assert ["gpu1", "Ready", "<none>", "v1.35.4", "127.0.1.2", "-", "8/8", "2", "8",
            "NVIDIA-H100-80GB-HBM3", "all-disabled/single"] in rows(out)
    assert ["cp1", "Ready", "control-plane", "v1.35.4", "127.0.1.1",
            "node-role.kubernetes.io/control-plane:NoSchedule", "-", "-", "-", "-", "-"] in rows(out)
    assert ["gpu", "gpu-operator", "✓", "8/8 ready"] in rows(out)
    assert "GPU Operator ClusterPolicy cluster-policy: ready" in out
    assert "default StorageClass: nfs-client" in out
    assert ("Grafana: cluster-internal (ClusterIP); run `kubectl -n monitoring port-forward "
            "svc/kube-prometheus-stack-grafana 3000:80`") in out
    assert "JupyterHub: http://127.0.1.1:30081 (Service jupyterhub/proxy-public, NodePort)" in out
    assert "Totals: nodes 3/3 ready · GPUs 16 allocatable / 16 expected · 2 in use" in out
    assert out.index("20261127T100000Z-deploy-bbbb") < out.index("20261126T090000Z-deploy-aaaa")
    assert "Problems" not in out
    assert "/api/v1/nodes" in lab.api.requests  # it really asked the API


def test_healthy_cluster_json(lab: Lab) -> None:
    code, doc = lab.status_json()
    assert code == 0
    assert (doc["state"], doc["health"], doc["endpoint"]) == ("deployed", "healthy", lab.api.url)
    assert doc["kubeconfig"] == str(lab.state.kubeconfig)
    assert doc["totals"] == {"nodesReady": 3, "nodesTotal": 3, "gpusCapacity": 16,
                             "gpusAllocatable": 16, "gpusExpected": 16, "gpusExpectedUnknown": [],
                             "gpusInUse": 2}
    gpu1 = doc["nodes"][1]
    assert gpu1["gpus"] == {"capacity": 8, "allocatable": 8, "inUse": 2, "expected": 8,
                            "product": k.H100, "countLabel": 8, "migConfig": "all-disabled",
                            "migStrategy": "single", "migDevices": {}}
    assert [(a["name"], a["namespace"]) for a in doc["platform"]["addons"]] == [
        ("storage", "nfs-provisioner"), ("gpu", "gpu-operator"), ("monitoring", "monitoring"),
        ("jupyterhub", "jupyterhub")]
    assert doc["platform"]["clusterPolicy"] == {"name": "cluster-policy", "state": "ready"}
    assert [(e["name"], e["url"]) for e in doc["platform"]["endpoints"]] == [
        ("Grafana", None), ("JupyterHub", "http://127.0.1.1:30081")]
    assert [r["result"] for r in doc["history"]] == ["succeeded", "failed"]
    assert doc["history"][1]["failedStage"] == "gpu"
    assert doc["problems"] == []


def test_node_not_ready(lab: Lab) -> None:
    lab.api.find("Node", "gpu2")["status"]["conditions"][-1]["status"] = "Unknown"
    result = lab.status()
    assert result.exit_code == 1
    assert "cluster lab: degraded" in result.stdout
    assert rows(result.stdout)[2][:2] == ["gpu2", "NotReady"]
    assert "Totals: nodes 2/3 ready" in result.stdout
    assert "  ✗ node gpu2: NotReady" in result.stdout
    code, doc = lab.status_json()
    assert (code, doc["health"]) == (1, "degraded")
    assert doc["problems"] == [{"subject": "node gpu2", "message": "NotReady", "severity": "error"}]


def test_fewer_gpus_than_preflight_saw(lab: Lab) -> None:
    lab.api.find("Node", "gpu2")["status"]["allocatable"]["nvidia.com/gpu"] = "6"
    result = lab.status()
    assert result.exit_code == 1
    assert rows(result.stdout)[2][6:9] == ["6/8", "0", "8"]
    assert "GPUs 14 allocatable / 16 expected" in result.stdout
    assert "  ✗ node gpu2: 6 of 8 GPUs allocatable (preflight saw 8)" in result.stdout


def test_daemonset_not_ready(lab: Lab) -> None:
    dcgm = lab.api.find("DaemonSet", "nvidia-dcgm-exporter")
    dcgm["status"]["numberReady"] = 1
    result = lab.status()
    assert result.exit_code == 1
    assert ["gpu", "gpu-operator", "✗", "7/8 ready"] in rows(result.stdout)
    assert ["", "", "", "DaemonSet nvidia-dcgm-exporter 1/2"] in rows(result.stdout)
    assert "  ✗ DaemonSet gpu-operator/nvidia-dcgm-exporter: 1/2 ready" in result.stdout
    _, doc = lab.status_json()
    gpu = doc["platform"]["addons"][1]
    assert gpu["ready"] is False
    assert {"kind": "DaemonSet", "name": "nvidia-dcgm-exporter", "desired": 2, "ready": 1} in gpu[
        "workloads"]


def test_api_down_is_exit_4_naming_endpoint_and_kubeconfig(lab: Lab) -> None:
    lab.api.stop()
    started = time.monotonic()
    proc = subprocess.run([*DEEPCTL, "status", str(lab.spec)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 4, proc.stderr
    assert time.monotonic() - started < 30
    message = " ".join(proc.stderr.split())
    assert (f"error: cannot read the Kubernetes API at {lab.api.url} (kubeconfig "
            f"{lab.state.kubeconfig}): ") in message
    assert "Connection refused" in message
    assert "hint: check that the control plane is up" in message
    assert "Traceback" not in proc.stderr and TOKEN not in proc.stdout + proc.stderr
    code, doc = lab.status_json()
    assert code == 4
    assert doc["error"]["kind"] == "api" and doc["error"]["code"] == 4
    assert lab.api.url in doc["error"]["message"]


def test_rejected_credentials_are_exit_4(lab: Lab) -> None:
    lab.api.token = "another-token"
    result = lab.status()
    assert result.exit_code == 4
    assert "HTTP 401 Unauthorized: Unauthorized" in result.stderr


def test_not_deployed_shows_history_and_exits_0(lab: Lab) -> None:
    lab.state.kubeconfig.unlink()
    result = lab.status()
    assert result.exit_code == 0
    assert f"cluster lab: not deployed (no kubeconfig at {lab.state.kubeconfig}" in result.stdout
    assert "20261126T090000Z-deploy-aaaa" in result.stdout
    _, doc = lab.status_json()
    assert (doc["state"], doc["health"], doc["nodes"]) == ("not-deployed", "unknown", [])
    assert lab.api.requests == []


def test_spec_error_and_bad_options_are_exit_2(lab: Lab, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("apiVersion: deepctl/v1alpha1\nkind: Cluster\nmetadata: {name: x}\nspec: {}\n")
    assert CliRunner().invoke(app, ["status", str(broken)]).exit_code == 2
    result = lab.status("--watch", "--json")
    assert result.exit_code == 2
    assert "--watch and --json cannot be combined" in result.stdout


def _read_until(proc: subprocess.Popen[str], needle: str, count: int, seen: list[str]) -> None:
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    while "".join(seen).count(needle) < count:
        assert time.monotonic() < deadline, "".join(seen)
        line = proc.stdout.readline()
        assert line, "".join(seen)
        seen.append(line)


def test_watch_refreshes_until_ctrl_c(lab: Lab) -> None:
    """Piped (not a terminal), --watch prints each refresh; Ctrl-C exits with the last health."""
    env = {**os.environ, "COLUMNS": "220"}
    proc = subprocess.Popen([*DEEPCTL, "status", str(lab.spec), "--watch", "--interval", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    seen: list[str] = []
    try:
        _read_until(proc, "cluster lab: healthy", 1, seen)
        lab.api.find("DaemonSet", "nvidia-dcgm-exporter")["status"]["numberReady"] = 0
        _read_until(proc, "cluster lab: degraded", 1, seen)
        _read_until(proc, "updated ", 2, seen)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 1
    finally:
        proc.kill()
    assert "every 1s; Ctrl-C to stop" in "".join(seen)


def test_watch_on_a_terminal_redraws_in_place(lab: Lab) -> None:
    """On a terminal, rich Live redraws the screen: cursor-up/erase sequences between refreshes."""

    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "220", "LINES": "80", "TERM": "xterm-256color"}
    proc = subprocess.Popen([*DEEPCTL, "status", str(lab.spec), "--watch", "--interval", "1"],
                            stdin=follower, stdout=follower, stderr=follower, env=env)
    os.close(follower)
    output = b""
    try:
        deadline = time.monotonic() + 30
        while output.count(b"updated ") < 2:
            assert time.monotonic() < deadline, output.decode(errors="replace")
            output += os.read(leader, 65536)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
    finally:
        proc.kill()
        os.close(leader)
    text = output.decode(errors="replace")
    assert "\x1b[2K\x1b[1A" in text  # erase line + cursor up: redrawn in place, not appended
    assert "cluster lab: healthy" in re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)


def test_a_trickling_api_meets_one_deadline_for_the_whole_command(lab: Lab) -> None:
    """An API that sends a byte every 0.2 s never trips a read timeout; --timeout ends it."""
    lab.api.trickle_s = 0.2
    begun = time.monotonic()
    proc = subprocess.run([*DEEPCTL, "status", str(lab.spec), "--timeout", "2"],
                          capture_output=True, text=True, timeout=60, check=False,
                          env={**os.environ, "COLUMNS": "220"})
    took = time.monotonic() - begun
    assert proc.returncode == 4, proc.stderr
    assert "no complete answer within 2 s" in proc.stderr
    assert "Traceback" not in proc.stderr and TOKEN not in proc.stderr
    assert took < 15, took


@pytest.mark.parametrize("during_refresh", [False, True])
def test_watch_stopped_by_ctrl_c_exits_the_same_way_wherever_the_signal_lands(
        lab: Lab, during_refresh: bool) -> None:
    """Ctrl-C exits with the last completed refresh's code, between refreshes or during one."""
    proc = subprocess.Popen([*DEEPCTL, "status", str(lab.spec), "--watch", "--interval", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "COLUMNS": "220"})
    seen: list[str] = []
    try:
        _read_until(proc, "updated ", 1, seen)
        if during_refresh:
            lab.api.trickle_s = 0.05  # the next refresh takes long: the signal lands in it
            time.sleep(2.0)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
    finally:
        proc.kill()
    assert "Traceback" not in proc.stderr.read()  # type: ignore[union-attr]


def test_names_and_run_ids_stay_whole_at_80_columns_on_a_terminal_and_in_a_pipe(lab: Lab) -> None:
    term = CliRunner().invoke(app, ["status", str(lab.spec)],
                              env={"COLUMNS": "80", "TTY_COMPATIBLE": "1"})
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", term.stdout)
    assert "…" not in text
    names = {row[0] for row in rows(text)}
    assert {"cp1", "gpu1", "gpu2"} <= names, text
    assert max(len(line) for line in text.splitlines() if line[:1] in "┏┃┡│└") <= 80
    pipe = subprocess.run([*DEEPCTL, "status", str(lab.spec)], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "80"}, timeout=60, check=False)
    assert "…" not in pipe.stdout
    assert "20261127T100000Z-deploy-bbbb" in pipe.stdout
    assert "NVIDIA-H100-80GB-HBM3" in pipe.stdout


def test_watch_over_https_keeps_no_key_file_and_stops_on_ctrl_c_without_a_traceback(
        tmp_path: Path) -> None:
    """Issue 22: against an https API with Kubespray's admin.conf (embedded CA, client
    certificate and key), the kubernetes client wrote them to temporary files removed by an
    exit hook; a Ctrl-C during that hook printed a traceback. deepctl removes them as soon
    as each refresh is read, so nothing is left for an exit hook, and Ctrl-C stops cleanly."""
    spec = tmp_path / "cluster.yaml"
    spec.write_text(k.SPEC_YAML)
    state = StateDir(tmp_path / ".deepctl" / "lab")
    temp = tmp_path / "tmp"
    temp.mkdir()
    api = KubeApiStandin(token=TOKEN, tls=True).add(*k.healthy_gpu_cluster()).start()
    try:
        api.write_kubeconfig(state.kubeconfig)
        proc = subprocess.Popen([*DEEPCTL, "status", str(spec), "--watch", "--interval", "1"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "COLUMNS": "220", "TMPDIR": str(temp)})
        seen: list[str] = []
        try:
            _read_until(proc, "updated ", 2, seen)
            assert "cluster lab: healthy" in "".join(seen)
            assert sorted(temp.iterdir()) == []  # no certificate or key in a temporary file
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=20) == 0
        finally:
            proc.kill()
    finally:
        api.stop()
    stderr = proc.stderr.read()  # type: ignore[union-attr]
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr


def test_a_second_ctrl_c_while_watch_is_stopping_changes_nothing(lab: Lab) -> None:
    """Issue 22: a second Ctrl-C as --watch stops killed deepctl from its exit hooks (-SIGINT
    or a traceback); the run ends as after one Ctrl-C."""
    proc = subprocess.Popen([*DEEPCTL, "status", str(lab.spec), "--watch", "--interval", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "COLUMNS": "220"})
    seen: list[str] = []
    try:
        _read_until(proc, "updated ", 1, seen)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
    finally:
        proc.kill()
    stderr = proc.stderr.read()  # type: ignore[union-attr]
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr
