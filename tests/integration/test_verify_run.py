"""``deepctl verify --level standard`` as a user runs it, through the engine and Ansible.

One loopback host (gpu1: control plane and GPU worker, 8 GPU stand-ins; the API says
A100-SXM4-40GB). Real: SSH, the engine, Ansible, the shipped playbooks, the parsers.
Stood in for: kubectl at Kubespray's bin_dir (scripted: the node, the Jobs, and as Job
logs the real public outputs of tests/fixtures/verify/), Kubespray (not run: verify only
needs the inventory).
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.fixtures.k8s_objects import node
from tests.fixtures.nccl_logs import slowed
from tests.harness import HostFarm, HostProfile, TestHost
from tests.harness.fixtures import require_real_sshd_hosts
from tests.integration.engine_support import DEEPCTL, deepctl, wait_for, write_spec

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "verify"
NS = "deepctl-verify"
SMOKE = "app.kubernetes.io/name=deepctl-gpu-smoke"
CHECKS = "app.kubernetes.io/name=deepctl-verify"
DCGM_JOB, NCCL_JOB = "deepctl-dcgm-gpu1", "deepctl-nccl-gpu1"
A100 = "NVIDIA-A100-SXM4-40GB"
SINGLE = (FIXTURES / "all_reduce_perf-1node-8xA100.txt").read_text()


@dataclass
class Lab:
    tmp: Path
    spec: Path
    gpu1: TestHost


def complete(name: str, labels: dict[str, str], ok: bool = True) -> dict[str, object]:
    return {"metadata": {"name": name, "namespace": NS, "labels": labels},
            "status": {"conditions": [{"type": "Complete" if ok else "Failed", "status": "True"}]}}


def script(host: TestHost, nccl_log: str) -> None:
    host.reset_stand_ins()
    host.set_kube_response("kubectl", "get nodes", stdout=json.dumps(
        {"items": [node("gpu1", host.address, gpus=8, control_plane=True, product=A100)]}))
    smoke_labels = {"app.kubernetes.io/name": "deepctl-gpu-smoke", "deepctl.io/node": "gpu1"}
    host.set_kube_response("kubectl", f"get jobs --namespace {NS} --selector {SMOKE}",
                           stdout=json.dumps({"items": [complete("deepctl-gpu-smoke-gpu1",
                                                                 smoke_labels)]}))
    host.set_kube_response("kubectl", "logs job/deepctl-gpu-smoke-gpu1", stdout="NVIDIA-SMI ok\n")
    host.set_kube_response("kubectl", f"get jobs --namespace {NS} --selector {CHECKS}",
                           stdout=json.dumps({"items": [complete(DCGM_JOB, {}),
                                                        complete(NCCL_JOB, {})]}))
    for job, log in ((DCGM_JOB, (FIXTURES / "dcgmi-diag-r2-pass.json").read_text()),
                     (NCCL_JOB, nccl_log)):
        host.set_kube_response(
            "kubectl", f"logs --namespace {NS} --selector batch.kubernetes.io/job-name={job}",
            stdout=log)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    require_real_sshd_hosts()
    with HostFarm(pool="function") as farm:
        (gpu1,) = farm.add_many([HostProfile("gpu1", gpu="h100x8")])
        tmp = tmp_path_factory.mktemp("verify-run")
        spec = write_spec(tmp, farm, {gpu1: ["control-plane", "etcd", "worker"]}, gpu1,
                          addons={"gpu": {"enabled": True}})
        data = yaml.safe_load(spec.read_text())
        data["spec"]["hosts"][0]["gpu"] = True
        spec.write_text(yaml.safe_dump(data, sort_keys=False))
        yield Lab(tmp, spec, gpu1)


def kubectl(host: TestHost) -> list[list[str]]:
    return [c["argv"][1:] for c in host.calls("kubectl")]


def test_standard_applies_judges_keeps_and_cleans_up(lab: Lab) -> None:
    script(lab.gpu1, SINGLE)
    done = deepctl("verify", str(lab.spec), "--level", "standard", cwd=lab.tmp)
    assert done.returncode == 0, done.stdout + done.stderr
    said = done.stdout + done.stderr
    assert "pass     dcgm-2     gpu1: 11 tests passed" in said
    assert "pass     nccl-node  gpu1: 235.26 GB/s within 10% of 231 GB/s or above (A100-SXM x8)" in said
    calls = kubectl(lab.gpu1)
    applies = [c for c in lab.gpu1.calls("kubectl") if c["argv"][1:2] == ["apply"]]
    applied = [d for c in applies for d in yaml.safe_load_all(c["stdin"]) if d]
    assert [(d["kind"], d["metadata"]["name"]) for d in applied if d["kind"] == "Job"] == [
        ("Job", "deepctl-gpu-smoke-gpu1"), ("Job", DCGM_JOB), ("Job", NCCL_JOB)]
    deletes = [c for c in calls if c[:2] == ["delete", "jobs,services,secrets"]]
    assert len(deletes) == 2 and all(CHECKS in c for c in deletes)  # leftovers first, then ours
    assert calls.index(deletes[-1]) > max(i for i, c in enumerate(calls) if c[0] == "logs")
    runs = sorted((lab.tmp / ".deepctl" / "lab" / "runs").iterdir())
    kept = json.loads((runs[-1] / "verify-results.json").read_text())
    assert kept["level"] == "standard"
    assert {(f["node"], f["check"], f["verdict"], f["figure"]) for f in kept["findings"]} == {
        ("gpu1", "cuda-smoke", "pass", None), ("gpu1", "dcgm-2", "pass", None),
        ("gpu1", "nccl-node", "pass", 235.26)}


def test_a_slow_node_fails_with_exit_1_and_is_compared_with_the_last_run(lab: Lab) -> None:
    script(lab.gpu1, SINGLE)
    assert deepctl("verify", str(lab.spec), "--level", "standard", cwd=lab.tmp).returncode == 0
    slow = slowed(SINGLE, 0.45)  # a derived log: the bandwidth more than halved
    script(lab.gpu1, slow)
    report = lab.tmp / "report.html"
    done = deepctl("verify", str(lab.spec), "--level", "standard", "--compare",
                   "--report", str(report), cwd=lab.tmp)
    assert done.returncode == 1, done.stdout + done.stderr
    said = done.stdout + done.stderr
    assert "fail     nccl-node  gpu1: 105.87 GB/s is below 207.9 GB/s (231 GB/s - 10%, A100-SXM x8)" \
        in said
    assert "gpu1 nccl-node: 105.87 GB/s, was 235.26 GB/s (-55%)" in said
    calls = kubectl(lab.gpu1)
    assert calls[-1][:2] == ["delete", "jobs,services,secrets"]  # cleaned up after a failure too
    page = report.read_text()  # written for a failed run too
    assert 'data-node="gpu1"' in page and "gpu1 (outlier)" in page
    as_json = deepctl("verify", str(lab.spec), "--level", "standard", "--json", cwd=lab.tmp)
    assert as_json.returncode == 1
    error = json.loads(as_json.stdout.strip().splitlines()[-1])["error"]  # the last document
    assert {(f["check"], f["verdict"], f["figure"]) for f in error["findings"]} >= {
        ("nccl-node", "fail", 105.87), ("dcgm-2", "pass", None)}


def test_drain_cordons_first_and_uncordons_after(lab: Lab) -> None:
    script(lab.gpu1, SINGLE)
    done = deepctl("verify", str(lab.spec), "--level", "standard", "--drain", "--yes", cwd=lab.tmp)
    assert done.returncode == 0, done.stdout + done.stderr
    calls = kubectl(lab.gpu1)
    verbs = [c[0] for c in calls if c[0] in ("cordon", "drain", "apply", "uncordon")]
    assert verbs == ["apply", "cordon", "drain", "apply", "uncordon"]  # smoke, then the checks
    assert ["drain", "gpu1", "--ignore-daemonsets", "--delete-emptydir-data",
            "--timeout=600s"] in calls
    applied = [c["stdin"] for c in lab.gpu1.calls("kubectl") if c["argv"][1:2] == ["apply"]][-1]
    dcgm = next(d for d in yaml.safe_load_all(applied) if d and d["metadata"]["name"] == DCGM_JOB)
    assert {"key": "node.kubernetes.io/unschedulable", "operator": "Exists",
            "effect": "NoSchedule"} in dcgm["spec"]["template"]["spec"]["tolerations"]


def test_ctrl_c_removes_the_jobs_and_the_cordon(lab: Lab) -> None:
    script(lab.gpu1, "")
    lab.gpu1.set_kube_response(  # the checks never finish: the user presses Ctrl-C
        "kubectl", f"get jobs --namespace {NS} --selector {CHECKS}",
        stdout=json.dumps({"items": [{"metadata": {"name": DCGM_JOB}, "status": {}}]}))
    run = subprocess.Popen([str(DEEPCTL), "verify", str(lab.spec), "--level", "standard",
                            "--drain", "--yes"], cwd=lab.tmp, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    try:
        wait_for(lambda: sum(c[0] == "apply" for c in kubectl(lab.gpu1)) == 2
                 and kubectl(lab.gpu1)[-1][:2] == ["get", "jobs"], 120)
        time.sleep(1)
        run.send_signal(signal.SIGINT)
        out, err = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 130, out + err
    calls = kubectl(lab.gpu1)
    last_apply = max(i for i, c in enumerate(calls) if c[0] == "apply")
    after = calls[last_apply + 1:]
    assert ["delete", "jobs,services,secrets", "--namespace", NS, "--selector", CHECKS,
            "--ignore-not-found", "--wait=false", "--cascade=background"] in after
    assert after[-1] == ["uncordon", "gpu1"]
    runs = sorted((lab.tmp / ".deepctl" / "lab" / "runs").iterdir())
    log = (runs[-1] / "deepctl.log").read_text()  # deepctl's own clean-up, over SSH
    assert "verify: after cancel on gpu1: KUBECONFIG=/etc/kubernetes/admin.conf" in log
    assert "uncordon gpu1 -> rc 0" in log
