"""``deepctl verify --level full`` with the Slurm addon on: the multi-node all-reduce also runs
through Slurm (``srun`` in the login pod, on each GPU partition of 2 or more nodes) and is
parsed and judged like the Kubernetes run.

Two loopback hosts (gpu1: control plane and GPU worker, gpu2: GPU worker; 8 H100 stand-ins
each, counted by a real ``deepctl preflight`` over SSH, which Slurm's layout needs). Stood in
for: kubectl at Kubespray's bin_dir on gpu1, scripted: the nodes, the Jobs and their logs
(real public outputs of tests/fixtures/verify/), the slurm namespace's pods, the login pod,
and what ``kubectl exec`` of the login pod prints: the srun smoke job's GPU list, and for the
srun all-reduce the real 4-node Slurm output of NVIDIA DeepOps' docs (191.56 GB/s peak).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from deepctl.stages.verify_slurm import ALL_REDUCE_TIMEOUT_S, EXEC_TIMEOUT_S
from tests.fixtures.k8s_objects import node
from tests.harness import HostFarm, HostProfile, TestHost
from tests.harness.fixtures import require_real_sshd_hosts
from tests.integration.engine_support import deepctl, write_spec

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "verify"
NS = "deepctl-verify"
SMOKE = "app.kubernetes.io/name=deepctl-gpu-smoke"
CHECKS = "app.kubernetes.io/name=deepctl-verify"
H100 = "NVIDIA-H100-80GB-HBM3"
NODES = ["gpu1", "gpu2"]
LOGIN_POD = "slurm-login-login-6c9f7d-x2k4p"
MULTI = (FIXTURES / "all_reduce_perf-2node-16xH100.txt").read_text()  # peak 338.82 GB/s
SRUN_MULTI = (FIXTURES / "all_reduce_perf-4node-32xA100-srun.txt").read_text()  # peak 191.56
SRUN_OK = "deepctl-node=h100-x8-0\n" + "".join(
    f"GPU {i}: NVIDIA H100 80GB HBM3 (UUID: GPU-{i})\n" for i in range(8))
EXEC = f"exec --namespace slurm {LOGIN_POD} --"


@dataclass
class Lab:
    tmp: Path
    spec: Path
    gpu1: TestHost


def complete(name: str, labels: dict[str, str] | None = None) -> dict[str, object]:
    return {"metadata": {"name": name, "namespace": NS, "labels": labels or {}},
            "status": {"conditions": [{"type": "Complete", "status": "True"}]}}


def logs(host: TestHost, job: str, text: str, indexed: bool = False) -> None:
    selector = f"batch.kubernetes.io/job-name={job}"
    if indexed:
        selector += ",batch.kubernetes.io/job-completion-index=0"
    host.set_kube_response("kubectl", f"logs --namespace {NS} --selector {selector}", stdout=text)


def script(host: TestHost) -> None:
    host.reset_stand_ins()
    host.set_kube_response("kubectl", "get nodes", stdout=json.dumps({"items": [
        node(n, f"10.0.0.{i}", gpus=8, control_plane=n == "gpu1", product=H100)
        for i, n in enumerate(NODES, 1)]}))
    host.set_kube_response("kubectl", f"get jobs --namespace {NS} --selector {SMOKE}",
                           stdout=json.dumps({"items": [complete(f"deepctl-gpu-smoke-{n}", {
                               "app.kubernetes.io/name": "deepctl-gpu-smoke", "deepctl.io/node": n})
                               for n in NODES]}))
    jobs = [f"deepctl-{kind}-{n}" for kind in ("dcgm", "nccl") for n in NODES]
    host.set_kube_response("kubectl", f"get jobs --namespace {NS} --selector {CHECKS}",
                           stdout=json.dumps({"items": [complete(j) for j in
                                                        [*jobs, "deepctl-nccl-mn-all"]]}))
    for n in NODES:
        logs(host, f"deepctl-dcgm-{n}", (FIXTURES / "dcgmi-diag-r3-pass.json").read_text())
        logs(host, f"deepctl-nccl-{n}",
             (FIXTURES / "all_reduce_perf-1node-8xA100.txt").read_text())
    logs(host, "deepctl-nccl-mn-all", MULTI, indexed=True)
    pods = [{"metadata": {"name": f"slurm-worker-h100-x8-{i}"},
             "spec": {"hostname": f"h100-x8-{i}", "nodeName": n}} for i, n in enumerate(NODES)]
    pods.append({"metadata": {"name": LOGIN_POD}, "spec": {"nodeName": "gpu1"}})
    host.set_kube_response("kubectl", "get pods --namespace slurm --output",
                           stdout=json.dumps({"items": pods}))
    host.set_kube_response("kubectl", "get pods --namespace slurm --selector", stdout=LOGIN_POD)
    host.set_kube_response("kubectl", f"{EXEC} timeout {EXEC_TIMEOUT_S}", stdout=SRUN_OK)
    host.set_kube_response("kubectl", f"{EXEC} timeout {ALL_REDUCE_TIMEOUT_S}", stdout=SRUN_MULTI)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    require_real_sshd_hosts()
    with HostFarm(pool="function") as farm:
        hosts = farm.add_many([HostProfile(n, gpu="h100x8") for n in NODES])
        tmp = tmp_path_factory.mktemp("verify-slurm")
        roles = {h: ["control-plane", "etcd", "worker"] if h is hosts[0] else ["worker"]
                 for h in hosts}
        spec = write_spec(tmp, farm, roles, hosts[0],
                          addons={"gpu": {"enabled": True}, "slurm": {"enabled": True}})
        data = yaml.safe_load(spec.read_text())
        for entry in data["spec"]["hosts"]:
            entry["gpu"] = True
        data["spec"]["verify"] = {"expect": {"multi-node": {"busBandwidth": 300}}}
        spec.write_text(yaml.safe_dump(data, sort_keys=False))
        deepctl("preflight", str(spec), cwd=tmp)  # records the GPUs Slurm's layout needs
        yield Lab(tmp, spec, hosts[0])


def test_full_runs_the_all_reduce_through_srun_and_judges_it(lab: Lab) -> None:
    script(lab.gpu1)
    done = deepctl("verify", str(lab.spec), "--level", "full", "--json", cwd=lab.tmp)
    assert done.returncode == 1, done.stdout + done.stderr
    error = json.loads(done.stdout.strip().splitlines()[-1])["error"]
    assert "findings" in error, error
    found = {(f["node"], f["check"]): f for f in error["findings"]}
    kube = found[("group all", "nccl-multi")]
    assert (kube["verdict"], kube["figure"]) == ("pass", 338.82)
    slurm = found[("slurm partition h100", "nccl-slurm")]
    assert (slurm["verdict"], slurm["figure"], slurm["expected"], slurm["floor"]) == (
        "fail", 191.56, 300, 270)
    assert slurm["why"].startswith("191.56 GB/s is below 270 GB/s")
    execs = [c["argv"][1:] for c in lab.gpu1.calls("kubectl") if c["argv"][1:2] == ["exec"]]
    assert [a[a.index("--") + 3:a.index("--") + 5] for a in execs] == [
        ["srun", "--partition=h100"], ["srun", "--partition=h100"]]  # the smoke, then ours
    srun = execs[-1][execs[-1].index("--") + 1:]
    assert srun == ["timeout", str(ALL_REDUCE_TIMEOUT_S), "srun", "--partition=h100", "--nodes=2",
                    "--ntasks-per-node=8", "--gres=gpu:8", "--mpi=pmix", "--job-name=deepctl-nccl",
                    "all_reduce_perf", "-b", "1G", "-e", "8G", "-f", "2", "-g", "1"]
