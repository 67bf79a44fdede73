"""The addon stages and verify through the engine: ``deepctl deploy`` as a user runs it.

Two loopback hosts (cp1: control plane and CPU worker; gpu1: 8 H100 stand-ins), the Kubespray
stand-in as ``spec.kubespray.path`` and cp1's recording ``helm``/``kubectl`` stand-ins as
Kubespray's ``bin_dir``. Real: preflight over SSH (it records the 8 GPUs verify compares
with), the engine, Ansible, the shipped playbooks. Stood in for: Kubespray, helm, kubectl
(scripted answers: nodes, smoke Jobs, pods, logs, the Slurm login pod's ``srun``), and
``mount.nfs`` (a stand-in on each host's PATH, so the NFS client is found and nothing is
installed on the shared test machine).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from deepctl.addons.playbook import plan_addon, saved_gpus
from deepctl.addons.registry import get_addon
from deepctl.workspace import open_workspace
from tests.fixtures.k8s_objects import node
from tests.harness import HostFarm, HostProfile, TestHost
from tests.harness.fixtures import require_real_sshd_hosts
from tests.integration.engine_support import STANDIN, deepctl, host_entry, run_state

pytestmark = pytest.mark.integration

ADDONS = ("storage", "gpu", "monitoring", "logging", "slurm")
SMOKE_JOB = "deepctl-gpu-smoke-gpu1"
SLINKY = "oci://ghcr.io/slinkyproject/charts"
NVIDIA_SMI_OK = "| NVIDIA-SMI 570.133.20   Driver Version: 570.133.20   CUDA Version: 12.8 |\n"
LOGIN_POD = "slurm-login-login-6c9f7d-x2k4p"
SRUN_OK = "deepctl-node=h100-x8-0\n" + "".join(
    f"GPU {i}: NVIDIA H100 80GB HBM3 (UUID: GPU-{i})\n" for i in range(8))


@dataclass
class Lab:
    tmp: Path
    spec: Path
    cp1: TestHost
    gpu1: TestHost
    first: Any  # the first deploy's CompletedProcess
    cmdlines: set[str] = field(default_factory=set)  # every command line seen during it


class CmdlineRecorder(threading.Thread):
    """Reads every process's /proc/PID/cmdline every few ms while a deploy runs."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.seen: set[str] = set()
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.005):
            for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
                try:
                    self.seen.add(cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace"))
                except OSError:
                    continue

    def stop(self) -> set[str]:
        self.done.set()
        self.join()
        return self.seen


def write_spec(tmp: Path, farm: HostFarm, cp1: TestHost, gpu1: TestHost) -> Path:
    (tmp / "standin").mkdir()
    hosts = [host_entry(cp1, ["control-plane", "etcd", "worker"], farm),
             {**host_entry(gpu1, ["worker"], farm), "gpu": True}]
    spec = {
        "apiVersion": "deepctl/v1alpha1", "kind": "Cluster", "metadata": {"name": "lab"},
        "spec": {
            "kubespray": {"path": str(STANDIN)},
            "ssh": {"user": "root", "identityFile": str(farm.client_key)},
            "hosts": hosts,
            "addons": {"gpu": {"enabled": True}, "monitoring": {"enabled": True},
                       "logging": {"enabled": True}, "slurm": {"enabled": True},
                       "storage": {"nfs": {"enabled": True, "externalServer": "192.0.2.50"}}},
            "kubesprayVars": {"standin_dir": str(tmp / "standin"), "bin_dir": str(cp1.kube_bin_dir)},
        },
    }
    path = tmp / "cluster.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    state = tmp / ".deepctl" / "lab"
    state.mkdir(parents=True, mode=0o700)
    (state / "known_hosts").write_text(farm.known_hosts([cp1, gpu1]), encoding="ascii")
    return path


def mount_nfs_standin(host: TestHost) -> None:
    """An executable ``mount.nfs`` on the host's PATH: the NFS client counts as installed."""
    path = host.bin_dir / "mount.nfs"
    path.write_text("#!/bin/sh\n# test stand-in for the NFS client\nexit 0\n", encoding="ascii")
    path.chmod(0o755)


def script_cluster(cp1: TestHost, *, gpus: int = 8, smoke: str = "Complete",
                   log: str = NVIDIA_SMI_OK) -> None:
    """kubectl on cp1: both nodes Ready, gpu1 with ``gpus`` allocatable, its smoke Job ``smoke``."""
    nodes = [node("cp1", "127.0.0.1", control_plane=True),
             node("gpu1", "127.0.0.2", gpus=8, allocatable=gpus)]
    cp1.set_kube_response("kubectl", "get nodes", stdout=json.dumps({"items": nodes}))
    labels = {"app.kubernetes.io/name": "deepctl-gpu-smoke", "deepctl.io/node": "gpu1"}
    job = {"metadata": {"name": SMOKE_JOB, "labels": labels},
           "status": {"conditions": [{"type": smoke, "status": "True"}],
                      "succeeded" if smoke == "Complete" else "failed": 1}}
    cp1.set_kube_response("kubectl", "get jobs", stdout=json.dumps({"items": [job]}))
    terminated = {"reason": "Completed" if smoke == "Complete" else "Error",
                  "exitCode": 0 if smoke == "Complete" else 255}
    pod = {"metadata": {"name": f"{SMOKE_JOB}-x7k2p", "labels": labels},
           "status": {"phase": "Succeeded" if smoke == "Complete" else "Failed",
                      "containerStatuses": [{"name": "nvidia-smi",
                                             "state": {"terminated": terminated}}]}}
    cp1.set_kube_response("kubectl", "get pods", stdout=json.dumps({"items": [pod]}))
    cp1.set_kube_response("kubectl", f"logs job/{SMOKE_JOB}", stdout=log)
    script_slurm(cp1)


def script_slurm(cp1: TestHost, *, rc: int = 0, stdout: str = SRUN_OK, stderr: str = "") -> None:
    """kubectl on cp1: the slurm namespace's pods, the running login pod, its ``srun``."""
    pods = [{"metadata": {"name": "slurm-worker-h100-x8-0"},
             "spec": {"hostname": "h100-x8-0", "nodeName": "gpu1"}},
            {"metadata": {"name": LOGIN_POD}, "spec": {"nodeName": "cp1"}}]
    cp1.set_kube_response("kubectl", "get pods --namespace slurm --output",
                          stdout=json.dumps({"items": pods}))
    cp1.set_kube_response("kubectl", "get pods --namespace slurm --selector", stdout=LOGIN_POD)
    cp1.set_kube_response("kubectl", f"exec --namespace slurm {LOGIN_POD} --", rc=rc,
                          stdout=stdout, stderr=stderr)


def script_releases_deployed(cp1: TestHost, spec: Path) -> None:
    """helm on cp1: every release of the addons is deployed with the values deepctl renders."""
    ws = open_workspace(spec)
    gpus = saved_gpus(ws)  # Slurm's values are made from preflight's facts
    for addon in ADDONS:
        for item in plan_addon(ws.cluster, get_addon(addon), gpus).releases:
            rel, ns = item.release.name, item.release.namespace
            entry = {"name": rel, "namespace": ns, "status": "deployed",
                     "chart": f"{item.release.chart.name}-{item.version}"}
            cp1.set_kube_response("helm", f"list --all --namespace {ns} --filter ^{rel}$",
                                  stdout=json.dumps([entry]))
            cp1.set_kube_response("helm", f"get values {rel}",
                                  stdout=json.dumps(yaml.safe_load(item.values)))


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    require_real_sshd_hosts()
    with HostFarm(pool="function") as farm:
        cp1, gpu1 = farm.add_many([HostProfile("cp1"), HostProfile("gpu1", gpu="h100x8")])
        tmp = tmp_path_factory.mktemp("addons-deploy")
        spec = write_spec(tmp, farm, cp1, gpu1)
        for host in (cp1, gpu1):
            mount_nfs_standin(host)
        script_cluster(cp1)
        recorder = CmdlineRecorder()
        recorder.start()
        try:
            first = deepctl("deploy", str(spec), "--yes", cwd=tmp, timeout=400)
        finally:
            seen = recorder.stop()
        yield Lab(tmp, spec, cp1, gpu1, first, seen)


def calls(host: TestHost) -> list[tuple[str, list[str], str | None]]:
    """helm and kubectl calls on ``host`` in the order they ran: (tool, argv[1:], stdin)."""
    both = [(c["time"], tool, c["argv"][1:], c["stdin"]) for tool in ("helm", "kubectl")
            for c in host.calls(tool)]
    return [(tool, argv, stdin) for _, tool, argv, stdin in sorted(both, key=lambda c: c[0])]


def milestones(host: TestHost) -> list[str]:
    """What changed the cluster, in order: helm upgrades and kubectl applies (by kind/name)."""
    out = []
    for tool, argv, stdin in calls(host):
        if tool == "helm" and argv[:2] == ["upgrade", "--install"]:
            out.append(f"helm {argv[2]} {argv[3]} {argv[5]}")
        elif tool == "kubectl" and argv[:1] == ["apply"]:
            docs = [d for d in yaml.safe_load_all(stdin or "") if d]
            out.append("apply " + ",".join(f"{d['kind']}/{d['metadata']['name']}" for d in docs))
        elif tool == "kubectl" and argv[:2] == ["get", "nodes"]:
            out.append("get nodes")
        elif tool == "kubectl" and argv[:1] == ["exec"]:
            out.append(" ".join(a for a in argv if a.startswith(("srun", "--partition", "--gres"))))
    return out


def stage_states(tmp: Path) -> dict[str, str]:
    stages = run_state(tmp)["stages"]
    assert isinstance(stages, dict)
    return {name: s["status"] for name, s in stages.items()}


def test_first_deploy_runs_addons_in_dependency_order_then_verifies(lab: Lab) -> None:
    assert lab.first.returncode == 0, lab.first.stdout + lab.first.stderr
    assert stage_states(lab.tmp) == {
        "preflight": "succeeded", "inventory": "succeeded", "offline-ca": "skipped",
        "kubespray": "succeeded",
        "kubeconfig": "succeeded", "storage": "succeeded", "gpu": "succeeded",
        "monitoring": "succeeded", "logging": "succeeded", "slurm": "succeeded",
        "jupyterhub": "skipped", "verify": "succeeded"}
    assert milestones(lab.cp1) == [
        "apply Namespace/nfs-provisioner",
        "helm nfs-subdir-external-provisioner "
        "nfs-subdir-external-provisioner/nfs-subdir-external-provisioner 4.0.18",
        # monitoring before the GPU Operator: the Prometheus Operator's CRDs exist when the
        # operator creates the DCGM exporter's ServiceMonitor
        "apply Namespace/monitoring",
        "apply ConfigMap/deepctl-gpu-dashboard",
        "apply Secret/grafana-admin",
        "helm kube-prometheus-stack prometheus-community/kube-prometheus-stack 87.5.1",
        "apply Namespace/gpu-operator",
        "helm gpu-operator nvidia/gpu-operator v26.3.3",
        "apply Namespace/logging",
        "helm loki grafana-community/loki 18.11.0",
        "helm alloy grafana/alloy 1.11.1",
        "apply Namespace/slinky",
        "apply Namespace/slurm",
        f"helm slurm-operator-crds {SLINKY}/slurm-operator-crds 1.2.1",
        f"helm slurm-operator {SLINKY}/slurm-operator 1.2.1",
        f"helm slurm {SLINKY}/slurm 1.2.1",
        "get nodes",
        f"apply Namespace/deepctl-verify,Job/{SMOKE_JOB}",
        "srun --partition=h100 --gres=gpu:8",
    ]
    run_dir = lab.tmp / ".deepctl" / "lab" / "runs" / str(run_state(lab.tmp)["id"])
    nfs_values = run_dir / "addons" / "storage" / "files" / "nfs-subdir-external-provisioner.values.yaml"
    assert yaml.safe_load(nfs_values.read_text())["nfs"]["server"] == "192.0.2.50"
    upgrade = next(argv for tool, argv, _ in calls(lab.cp1) if argv[:1] == ["upgrade"])
    assert upgrade[-2:] == ["--values",
                            "/var/lib/deepctl/addons/nfs-subdir-external-provisioner.values.yaml"]
    assert lab.gpu1.calls("helm") == [] and lab.gpu1.calls("kubectl") == []


def test_verify_pins_one_smoke_job_to_each_gpu_node(lab: Lab) -> None:
    verify = [argv for tool, argv, _ in calls(lab.cp1) if tool == "kubectl"
              and "slurm" not in argv][-6:]
    assert [a[:2] for a in verify] == [["get", "nodes"], ["delete", "jobs"], ["apply", "--filename"],
                                        ["get", "jobs"], ["get", "pods"], ["logs", f"job/{SMOKE_JOB}"]]
    applied = next(stdin for tool, argv, stdin in calls(lab.cp1) if argv[:1] == ["apply"]
                   and SMOKE_JOB in (stdin or ""))
    job = [d for d in yaml.safe_load_all(applied or "") if d["kind"] == "Job"]
    assert len(job) == 1  # cp1 has no GPU: no smoke Job there
    pod = job[0]["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"kubernetes.io/hostname": "gpu1"}
    assert pod["containers"][0]["image"] == "nvcr.io/nvidia/cuda:12.8.1-base-ubuntu24.04"
    assert pod["containers"][0]["command"] == ["nvidia-smi"]
    assert pod["containers"][0]["resources"] == {"limits": {"nvidia.com/gpu": 1}}
    log = (lab.tmp / ".deepctl" / "lab" / "runs" / str(run_state(lab.tmp)["id"]) / "deepctl.log")
    assert "verify: GPU smoke Job completed on gpu1" in log.read_text()


def test_slurm_gets_every_gpu_preflight_saw_and_srun_runs_on_its_partition(lab: Lab) -> None:
    """The GRES count comes from the real preflight over SSH (gpu1's 8 H100 stand-ins)."""
    run_dir = lab.tmp / ".deepctl" / "lab" / "runs" / str(run_state(lab.tmp)["id"])
    values = yaml.safe_load((run_dir / "addons" / "slurm" / "files" / "slurm.values.yaml").read_text())
    h100 = values["nodesets"]["h100-x8"]
    assert h100["slurmd"]["resources"]["limits"] == {"nvidia.com/gpu": 8}
    assert h100["extraConfMap"] == {"Gres": ["gpu:h100:8"]} and h100["replicas"] == 1
    assert values["nodesets"]["cpu"]["replicas"] == 1  # cp1 is a CPU worker
    assert sorted(values["partitions"]) == ["cpu", "h100"]
    (srun,) = [argv for tool, argv, _ in calls(lab.cp1) if argv[:1] == ["exec"]]
    assert srun[:5] == ["exec", "--namespace", "slurm", LOGIN_POD, "--"]
    assert srun[7:12] == ["srun", "--partition=h100", "--nodes=1", "--ntasks=1", "--gres=gpu:8"]
    log = (run_dir / "deepctl.log").read_text()
    assert "verify: srun smoke job completed on partition h100 (h100-x8-0)" in log


def test_second_deploy_installs_nothing_and_verify_names_a_failed_smoke_job(lab: Lab) -> None:
    """A re-deploy on a cluster whose GPU node broke: no release is touched, verify says where."""
    script_releases_deployed(lab.cp1, lab.spec)
    script_cluster(lab.cp1, smoke="Failed", log="Failed to initialize NVML: Unknown Error\n")
    lab.cp1.clear_calls()
    again = deepctl("deploy", str(lab.spec), "--yes", cwd=lab.tmp, timeout=400)
    helm = [argv for tool, argv, _ in calls(lab.cp1) if tool == "helm"]
    assert [a for a in helm if a[0] in ("upgrade", "rollback", "uninstall")] == []
    assert [a[5] for a in helm if a[0] == "list"] == [
        "^nfs-subdir-external-provisioner$", "^kube-prometheus-stack$", "^gpu-operator$",
        "^loki$", "^alloy$", "^slurm-operator-crds$", "^slurm-operator$", "^slurm$"]
    states = stage_states(lab.tmp)
    assert states["kubespray"] == "skipped" and states["preflight"] == "skipped"
    assert states["logging"] == "succeeded" and states["verify"] == "failed"

    assert again.returncode == 1, again.stdout + again.stderr
    said = again.stdout + again.stderr
    assert "GPU smoke test failed on gpu1" in said
    assert "GPU smoke Job failed on gpu1 (pod Failed: Error, exit code 255)" in said
    assert "Failed to initialize NVML: Unknown Error" in said
    assert f"kubectl -n deepctl-verify describe job {SMOKE_JOB}" in said


def test_only_gpu_runs_only_the_gpu_stage(lab: Lab) -> None:
    script_releases_deployed(lab.cp1, lab.spec)
    lab.cp1.clear_calls()
    only = deepctl("deploy", str(lab.spec), "--yes", "--only", "gpu", cwd=lab.tmp, timeout=300)
    assert only.returncode == 0, only.stdout + only.stderr
    assert [n for n, s in stage_states(lab.tmp).items() if s != "skipped"] == ["gpu"]
    helm = [argv for tool, argv, _ in calls(lab.cp1) if tool == "helm"]
    assert {a[0] for a in helm} == {"repo", "list", "get"}
    assert helm[0] == ["repo", "add", "--force-update", "nvidia", "https://helm.ngc.nvidia.com/nvidia"]
    assert lab.cp1.calls("kubectl")[0]["argv"][1:3] == ["apply", "--filename"]  # its namespace
    assert not any(c["argv"][1:3] == ["get", "nodes"] for c in lab.cp1.calls("kubectl"))


def test_verify_names_the_node_with_fewer_gpus_than_preflight_saw(lab: Lab) -> None:
    script_cluster(lab.cp1, gpus=7)
    lab.cp1.clear_calls()
    failed = deepctl("deploy", str(lab.spec), "--yes", "--only", "verify", cwd=lab.tmp)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    said = failed.stdout + failed.stderr
    assert "GPU check failed on gpu1" in said
    assert "gpu1: 7 nvidia.com/gpu allocatable, expected 8 (preflight saw 8 GPU(s))" in said
    assert [c["argv"][1:3] for c in lab.cp1.calls("kubectl")] == [["get", "nodes"]]  # no smoke
    assert run_state(lab.tmp)["failed_stage"] == "verify"


def test_grafana_password_is_in_its_0600_secret_file_only(lab: Lab) -> None:
    state = lab.tmp / ".deepctl" / "lab"
    secret_file = state / "secrets" / "monitoring.grafana-admin.yaml"
    assert oct(secret_file.stat().st_mode & 0o777) == "0o600"
    password = yaml.safe_load(secret_file.read_text())["stringData"]["admin-password"]
    assert len(password) >= 24
    assert len(lab.cmdlines) > 50  # the recorder really saw the deploy's processes
    assert [c for c in lab.cmdlines if password in c] == []  # no process argument, anywhere
    recorded = [c for tool in ("helm", "kubectl") for c in lab.cp1.calls(tool)]
    assert not any(password in " ".join(c["argv"]) for c in recorded)
    # every file deepctl or Ansible wrote (logs, run records, artifacts, values, inventory)
    leaks = [p for p in lab.tmp.rglob("*") if p.is_file() and p != secret_file
             and password.encode() in p.read_bytes()]
    assert leaks == []
    assert password not in lab.first.stdout + lab.first.stderr


def test_verify_names_the_slurm_partition_and_node_whose_srun_failed(lab: Lab) -> None:
    script_cluster(lab.cp1)
    script_slurm(lab.cp1, rc=1, stdout="deepctl-node=h100-x8-0\n",
                 stderr="Failed to initialize NVML: Unknown Error\n"
                 "srun: error: h100-x8-0: task 0: Exited with exit code 9\n")
    lab.cp1.clear_calls()
    failed = deepctl("deploy", str(lab.spec), "--yes", "--only", "verify", cwd=lab.tmp)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    said = failed.stdout + failed.stderr
    assert "Slurm smoke test failed on partition h100" in said
    assert ("srun smoke job failed on partition h100, Slurm node h100-x8-0 (Kubernetes node gpu1): "
            "exit code 1") in said
    assert "Failed to initialize NVML: Unknown Error" in said
    assert "kubectl -n slurm get pods -o wide" in said
