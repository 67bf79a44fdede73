"""Slurm (Slinky): layout decisions, spec rules, preflight's GPU facts, verify's pure parts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from deepctl.addons.slurm import NodeSet, Partition, SlurmLayout, gres_type, slurm_layout
from deepctl.clusterspec.models import Cluster
from deepctl.clusterspec.slurm_rules import check_slurm
from deepctl.preflight.gpu import GpuInventory, gpu_inventory
from deepctl.preflight.model import Gpu, HostFacts
from deepctl.preflight.saved import gpu_inventories
from deepctl.stages.verify_slurm import (
    describe_failure,
    kube_nodes,
    smoke_items,
    smoke_outcome,
    srun_argv,
)
from deepctl.state import StateDir

H100 = GpuInventory(8, "NVIDIA H100 80GB HBM3")
GPU = (("key", "nvidia.com/gpu"), ("operator", "Exists"), ("effect", "NoSchedule"))


def lab(*gpu_hosts: str, cpu: tuple[str, ...] = ("cpu1",), **addons: Any) -> Cluster:
    hosts = [{"name": "cp1", "address": "10.0.0.1", "roles": ["control-plane", "etcd"]}]
    hosts += [{"name": n, "address": f"10.0.1.{i}", "roles": ["worker"]} for i, n in enumerate(cpu)]
    hosts += [{"name": n, "address": f"10.0.2.{i}", "roles": ["worker"], "gpu": True}
              for i, n in enumerate(gpu_hosts)]
    return Cluster.model_validate({"metadata": {"name": "lab"}, "spec": {
        "hosts": hosts, "addons": {"slurm": {"enabled": True}, **addons}}})


@pytest.mark.parametrize(("model", "expected"), [
    ("NVIDIA H100 80GB HBM3", "h100"),
    ("H100 SXM5 80GB", "h100"),  # lspci's name
    ("NVIDIA A100-SXM4-40GB", "a100"),
    ("Tesla V100-SXM2-16GB", "v100"),
    ("NVIDIA RTX A6000", "rtx_a6000"),
    ("NVIDIA GeForce RTX 4090", "rtx_4090"),
    ("NVIDIA L40S", "l40s"),
    ("NVIDIA GH200 480GB", "gh200"),
    ("", None),
    ("NVIDIA", None),
])
def test_gres_type_is_a_short_model_name(model: str, expected: str | None) -> None:
    assert gres_type(model) == expected


def test_a_nodeset_per_model_and_count_a_partition_per_model_and_one_for_cpus() -> None:
    c = lab("gpu1", "gpu2", "gpu3", "gpu4", cpu=("cpu1", "cpu2"))
    gpus = {"gpu1": H100, "gpu2": GpuInventory(8, "H100 SXM5 80GB"),
            "gpu3": GpuInventory(4, "NVIDIA H100 PCIe"), "gpu4": GpuInventory(2, "NVIDIA L40S")}
    layout = slurm_layout(c, gpus)
    assert layout == SlurmLayout(
        nodesets=(
            NodeSet("h100-x8", ("gpu1", "gpu2"), 8, "h100", "h100", (GPU,)),
            NodeSet("h100-x4", ("gpu3",), 4, "h100", "h100", (GPU,)),
            NodeSet("l40s-x2", ("gpu4",), 2, "l40s", "l40s", (GPU,)),
            NodeSet("cpu", ("cpu1", "cpu2"), 0, None, "cpu", ()),
        ),
        partitions=(
            Partition("h100", ("h100-x8", "h100-x4"), True, 4, ("gpu1", "gpu2", "gpu3")),
            Partition("l40s", ("l40s-x2",), False, 2, ("gpu4",)),
            Partition("cpu", ("cpu",), False, 0, ("cpu1", "cpu2")),
        ),
    )
    assert [n.gres for n in layout.nodesets] == ["gpu:h100:8", "gpu:h100:4", "gpu:l40s:2", None]
    assert [p.name for p in layout.gpu_partitions] == ["h100", "l40s"]


def test_hosts_without_gpu_facts_are_reported_not_guessed() -> None:
    layout = slurm_layout(lab("gpu1", "gpu2"), {"gpu1": GpuInventory(2, "")})
    assert layout.missing_facts == ("gpu2",)
    assert [(n.name, n.hosts, n.gres) for n in layout.nodesets] == [
        ("gpu-x2", ("gpu1",), "gpu:2"), ("cpu", ("cpu1",), None)]
    assert layout.partitions[0].name == "gpu" and layout.partitions[0].default


def test_cpu_only_slurm_defaults_to_the_cpu_partition_and_tolerates_host_taints() -> None:
    c = Cluster.model_validate({"metadata": {"name": "lab"}, "spec": {"hosts": [
        {"name": "n1", "address": "10.0.0.1", "roles": ["control-plane", "etcd", "worker"],
         "taints": ["dedicated=batch:NoSchedule", "spot:NoExecute"]}],
        "addons": {"gpu": {"enabled": False}, "slurm": {"enabled": True}}}})
    (nodeset,) = slurm_layout(c, {}).nodesets
    assert nodeset.toleration_dicts() == [
        {"key": "dedicated", "operator": "Equal", "effect": "NoSchedule", "value": "batch"},
        {"key": "spot", "operator": "Exists", "effect": "NoExecute"}]
    assert slurm_layout(c, {}).partitions == (Partition("cpu", ("cpu",), True, 0, ("n1",)),)


def messages(c: Cluster) -> list[tuple[str, str]]:
    return [(".".join(map(str, f.path)), f.message) for f in check_slurm(c)]


def test_slurm_refuses_mig_time_slicing_missing_gpu_addon_and_database() -> None:
    assert messages(lab("gpu1")) == []
    bad = lab("gpu1", gpu={"mig": {"strategy": "mixed"}, "timeSlicingReplicas": 2})
    assert [p for p, _ in messages(bad)] == ["spec.addons.gpu.mig.strategy",
                                            "spec.addons.gpu.timeSlicingReplicas"]
    assert "set mig.strategy: none, or disable addons.slurm" in messages(bad)[0][1]
    assert messages(lab("gpu1", gpu={"enabled": False})) == [(
        "spec.addons.slurm.enabled", "Slurm's GPU nodes (gpu1) need the GPU addon "
        "(addons.gpu.enabled: true) to offer nvidia.com/gpu to the slurmd pods")]
    no_db = lab("gpu1", slurm={"enabled": True, "accounting": {"enabled": True}})
    assert [p for p, _ in messages(no_db)] == ["spec.addons.slurm.accounting.storageHost"]
    assert messages(lab("gpu1", slurm={"enabled": False}, gpu={"timeSlicingReplicas": 2})) == []


def test_preflight_facts_give_count_and_model_with_or_without_a_driver(tmp_path: Path) -> None:
    smi = HostFacts(gpus=[Gpu(i, "NVIDIA H100 80GB HBM3", f"GPU-{i}", 81559, "570.133.20", "Disabled")
                          for i in range(8)])
    lspci = HostFacts(pci_gpus=[
        "05:00.0 Bridge [0680]: NVIDIA Corporation Device [10de:22a3] (rev a1)",
        *(f"{n}:00.0 3D controller [0302]: NVIDIA Corporation GH100 [H100 SXM5 80GB] [10de:2330] (rev a1)"
          for n in ("18", "2a"))])
    assert gpu_inventory(smi) == GpuInventory(8, "NVIDIA H100 80GB HBM3")
    assert gpu_inventory(lspci) == GpuInventory(2, "H100 SXM5 80GB")
    state = StateDir(tmp_path / "state").create()
    state.facts_dir.mkdir()
    (state.facts_dir / "gpu1.json").write_text(json.dumps(smi.to_json()))
    (state.facts_dir / "gpu2.json").write_text(json.dumps(lspci.to_json()))
    (state.facts_dir / "gpu3.json").write_text("{not json")
    assert gpu_inventories(state, ["gpu1", "gpu2", "gpu3", "gpu4"]) == {
        "gpu1": GpuInventory(8, "NVIDIA H100 80GB HBM3"), "gpu2": GpuInventory(2, "H100 SXM5 80GB")}


PARTITION = Partition("h100", ("h100-x8",), True, 8, ("gpu1",))
PODS = json.dumps({"items": [
    {"metadata": {"name": "slurm-worker-h100-x8-0"}, "spec": {"hostname": "h100-x8-0", "nodeName": "gpu1"}},
    {"metadata": {"name": "slurm-login-login-7d9f-x2"}, "spec": {"nodeName": "cp1"}}]})


def test_srun_asks_for_every_gpu_of_the_partitions_smallest_node() -> None:
    argv = srun_argv(PARTITION)
    assert argv[:5] == ["srun", "--partition=h100", "--nodes=1", "--ntasks=1", "--gres=gpu:8"]
    assert argv[-3:] == ["sh", "-c", 'echo "deepctl-node=$SLURMD_NODENAME"; nvidia-smi -L']
    assert smoke_items((PARTITION,)) == [{"partition": "h100", "gpus": 8, "srun": argv}]


def test_smoke_outcomes_name_partition_slurm_node_and_kubernetes_node() -> None:
    nodes = kube_nodes(PODS)
    assert nodes["h100-x8-0"] == "gpu1"
    listed = "deepctl-node=h100-x8-0\n" + "".join(f"GPU {i}: NVIDIA H100 (UUID: GPU-{i})\n" for i in range(8))
    good = smoke_outcome("h100", 8, {"rc": 0, "stdout": listed, "stderr": ""}, nodes)
    assert good.ok and (good.slurm_node, good.kube_node) == ("h100-x8-0", "gpu1")
    short = smoke_outcome("h100", 8, {"rc": 0, "stdout": "deepctl-node=h100-x8-0\nGPU 0: x\n"}, nodes)
    assert describe_failure(short).startswith(
        "srun smoke job failed on partition h100, Slurm node h100-x8-0 (Kubernetes node gpu1): "
        "nvidia-smi listed 1 GPU(s), expected 8")
    crashed = smoke_outcome("h100", 8, {"rc": 1, "stdout": "", "stderr":
                                        "srun: error: h100-x8-0: task 0: Exited with exit code 9\n"}, nodes)
    assert describe_failure(crashed) == (
        "srun smoke job failed on partition h100, Slurm node h100-x8-0 (Kubernetes node gpu1): "
        "exit code 1\n      srun: error: h100-x8-0: task 0: Exited with exit code 9")
    pending = smoke_outcome("h100", 8, {"rc": 1, "stderr": "srun: error: Unable to allocate resources: "
                                        "Requested node configuration is not available"}, nodes)
    assert "partition h100 (no node was allocated): exit code 1" in describe_failure(pending)
    assert smoke_outcome("h100", 8, {"rc": None}, nodes).detail == "the job did not run"


def test_the_slurm_stage_refuses_gpu_nodes_preflight_never_counted(tmp_path: Path) -> None:
    import yaml

    from deepctl.addons.playbook import prepare_addon
    from deepctl.errors import DeepctlError
    from deepctl.workspace import open_workspace

    spec = tmp_path / "cluster.yaml"
    spec.write_text(yaml.safe_dump(lab("gpu1", "gpu2").model_dump(by_alias=True, mode="json",
                                                                  exclude_none=True)))
    ws = open_workspace(spec)
    ws.state.facts_dir.mkdir(parents=True)
    facts = HostFacts(gpus=[Gpu(0, "NVIDIA L40S", "GPU-0", 46068, "570.133.20", "Disabled")])
    (ws.state.facts_dir / "gpu1.json").write_text(json.dumps(facts.to_json()))
    with pytest.raises(DeepctlError) as error:
        prepare_addon(ws, "slurm", tmp_path / "work")
    assert error.value.message.startswith(
        "slurm: preflight has not counted the GPUs of gpu2 (no usable facts in ")
    assert error.value.hint == (f"run `deepctl preflight {spec}`, then `deepctl deploy {spec} --only slurm`")
    (ws.state.facts_dir / "gpu2.json").write_text(json.dumps(facts.to_json()))
    playbooks = prepare_addon(ws, "slurm", tmp_path / "work")
    values = yaml.safe_load((tmp_path / "work" / "files" / "slurm.values.yaml").read_text())
    assert values["nodesets"]["l40s-x1"]["replicas"] == 2 and [p.name for p in playbooks] == ["helm"]
