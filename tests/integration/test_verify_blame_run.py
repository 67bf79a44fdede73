"""``deepctl verify --level full`` with a slow multi-node all-reduce: the blame rounds run on
the cluster and name the planted slow node.

Four loopback hosts (gpu1: control plane and GPU worker; gpu2-4: GPU workers; 8 A100 each
as the API says). Real: SSH, the engine, Ansible, the shipped playbooks, the parsers, the
blame rounds. Stood in for: kubectl at Kubespray's bin_dir on gpu1, scripted to return as
each Job's log the real 2-node all_reduce_perf output of tests/fixtures/verify/ where the
Job's nodes are healthy, and that log slowed (derived, tests/fixtures/nccl_logs.py) where
the planted slow node gpu3 is among them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.fixtures.k8s_objects import node
from tests.fixtures.nccl_logs import slowed
from tests.harness import HostFarm, HostProfile, TestHost
from tests.harness.fixtures import require_real_sshd_hosts
from tests.integration.engine_support import deepctl, write_spec

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "verify"
NS = "deepctl-verify"
SMOKE = "app.kubernetes.io/name=deepctl-gpu-smoke"
CHECKS = "app.kubernetes.io/name=deepctl-verify"
A100 = "NVIDIA-A100-SXM4-40GB"
SINGLE = (FIXTURES / "all_reduce_perf-1node-8xA100.txt").read_text()
MULTI = (FIXTURES / "all_reduce_perf-2node-16xH100.txt").read_text()  # peak 338.82 GB/s
DCGM3 = (FIXTURES / "dcgmi-diag-r3-pass.json").read_text()
NODES = ["gpu1", "gpu2", "gpu3", "gpu4"]
SLOW = "gpu3"
# The rounds blame makes with NODES (halving; a single suspect runs with a cleared node):
SUBSETS = {"all": NODES,
           "blame-2-0": ["gpu1", "gpu2"], "blame-2-1": ["gpu3", "gpu4"],
           "blame-3-0": ["gpu3", "gpu1"], "blame-3-1": ["gpu4", "gpu1"]}


@dataclass
class Lab:
    tmp: Path
    spec: Path
    gpu1: TestHost


def complete(name: str, labels: dict[str, str] | None = None) -> dict[str, object]:
    return {"metadata": {"name": name, "namespace": NS, "labels": labels or {}},
            "status": {"conditions": [{"type": "Complete", "status": "True"}]}}


def logs(job: str, text: str, host: TestHost, indexed: bool = False) -> None:
    selector = f"batch.kubernetes.io/job-name={job}"
    if indexed:
        selector += ",batch.kubernetes.io/job-completion-index=0"
    host.set_kube_response("kubectl", f"logs --namespace {NS} --selector {selector}", stdout=text)


def script(host: TestHost) -> None:
    host.reset_stand_ins()
    host.set_kube_response("kubectl", "get nodes", stdout=json.dumps({"items": [
        node(n, f"10.0.0.{i}", gpus=8, control_plane=n == "gpu1", product=A100)
        for i, n in enumerate(NODES, 1)]}))
    host.set_kube_response("kubectl", f"get jobs --namespace {NS} --selector {SMOKE}",
                           stdout=json.dumps({"items": [complete(f"deepctl-gpu-smoke-{n}", {
                               "app.kubernetes.io/name": "deepctl-gpu-smoke", "deepctl.io/node": n})
                               for n in NODES]}))
    jobs = [f"deepctl-{kind}-{n}" for kind in ("dcgm", "nccl") for n in NODES]
    jobs += [f"deepctl-nccl-mn-{group}" for group in SUBSETS]
    host.set_kube_response("kubectl", f"get jobs --namespace {NS} --selector {CHECKS}",
                           stdout=json.dumps({"items": [complete(j) for j in jobs]}))
    for n in NODES:
        logs(f"deepctl-dcgm-{n}", DCGM3, host)
        logs(f"deepctl-nccl-{n}", SINGLE, host)
    for group, members in SUBSETS.items():
        logs(f"deepctl-nccl-mn-{group}", slowed(MULTI, 0.5) if SLOW in members else MULTI, host,
             indexed=True)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    require_real_sshd_hosts()
    with HostFarm(pool="function") as farm:
        hosts = farm.add_many([HostProfile(n, gpu="h100x8") for n in NODES])
        tmp = tmp_path_factory.mktemp("verify-blame")
        roles = {h: ["control-plane", "etcd", "worker"] if h is hosts[0] else ["worker"]
                 for h in hosts}
        spec = write_spec(tmp, farm, roles, hosts[0], addons={"gpu": {"enabled": True}})
        data = yaml.safe_load(spec.read_text())
        for entry in data["spec"]["hosts"]:
            entry["gpu"] = True
        data["spec"]["verify"] = {"expect": {"multi-node": {"busBandwidth": 300}}}
        spec.write_text(yaml.safe_dump(data, sort_keys=False))
        yield Lab(tmp, spec, hosts[0])


def applied_jobs(host: TestHost) -> list[list[str]]:
    """Per ``kubectl apply``, the multi-node Jobs it held and their nodes."""
    out = []
    for call in host.calls("kubectl"):
        if call["argv"][1:2] != ["apply"]:
            continue
        docs = [d for d in yaml.safe_load_all(call["stdin"]) if d]
        out.append([d["metadata"]["name"] for d in docs if d["kind"] == "Job"
                    and d["spec"].get("completionMode") == "Indexed"])
    return out


def nodes_of(host: TestHost, job: str) -> list[str]:
    for call in host.calls("kubectl"):
        for d in yaml.safe_load_all(call.get("stdin") or ""):
            if d and d["kind"] == "Job" and d["metadata"]["name"] == job:
                term = d["spec"]["template"]["spec"]["affinity"]["nodeAffinity"][
                    "requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0]
                return list(term["matchExpressions"][0]["values"])
    return []


def test_full_blames_the_slow_node_within_the_round_bound(lab: Lab) -> None:
    script(lab.gpu1)
    done = deepctl("verify", str(lab.spec), "--level", "full", "--json", cwd=lab.tmp)
    assert done.returncode == 1, done.stdout + done.stderr
    error = json.loads(done.stdout.strip().splitlines()[-1])["error"]
    assert "findings" in error, error
    found = {(f["node"], f["check"]): f for f in error["findings"]}
    whole = found[("group all", "nccl-multi")]
    assert (whole["verdict"], whole["figure"], whole["floor"]) == ("fail", 169.41, 270.0)
    blamed = [f for f in error["findings"] if f["check"] == "nccl-blame"]
    assert [(f["node"], f["verdict"]) for f in blamed] == [(SLOW, "fail")]
    assert "169.41 GB/s on gpu3, gpu1" in blamed[0]["why"]
    assert "3 round(s), bound 3" in blamed[0]["why"]
    rounds = [jobs for jobs in applied_jobs(lab.gpu1) if jobs]
    # round 1 is the all-nodes run of the checks; then one apply per blame round
    assert rounds == [["deepctl-nccl-mn-all"],
                      ["deepctl-nccl-mn-blame-2-0", "deepctl-nccl-mn-blame-2-1"],
                      ["deepctl-nccl-mn-blame-3-0", "deepctl-nccl-mn-blame-3-1"]]
    assert len(rounds) <= math.ceil(math.log2(len(NODES))) + 1
    for group, members in SUBSETS.items():
        assert sorted(nodes_of(lab.gpu1, f"deepctl-nccl-mn-{group}")) == sorted(members)
    calls = [c["argv"][1:] for c in lab.gpu1.calls("kubectl")]
    assert calls[-1][:2] == ["delete", "jobs,services,secrets"]  # the last round cleaned up


def test_without_a_multi_node_figure_there_is_no_blame(lab: Lab) -> None:
    data = yaml.safe_load(lab.spec.read_text())
    spec = lab.tmp / "no-figure.yaml"
    data["spec"]["verify"] = {}
    spec.write_text(yaml.safe_dump(data, sort_keys=False))
    script(lab.gpu1)
    done = deepctl("verify", str(spec), "--level", "full", cwd=lab.tmp)
    assert done.returncode == 0, done.stdout + done.stderr
    said = done.stdout + done.stderr
    assert 'no multi-node figure in spec.verify.expect["multi-node"]: measured only, no blame' \
        in said
    assert [jobs for jobs in applied_jobs(lab.gpu1) if jobs] == [["deepctl-nccl-mn-all"]]
