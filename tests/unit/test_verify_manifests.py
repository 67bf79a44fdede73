"""verify's manifests at every level, for every example: valid against the Kubernetes API
schemas of the cluster's version (kubernetes-validate), pinned to the right nodes, images
from the GPU Operator chart and from the mirror when offline."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from deepctl.clusterspec.loader import load_spec
from deepctl.clusterspec.models import Cluster
from deepctl.stages import verify_render as r
from deepctl.verify import images
from deepctl.verify import manifests as m

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
CHART_VALUES = ROOT.parent / "shared" / "charts-src" / "gpu-operator-v26.3.3" / "values.yaml"
KEY = ("-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-key\n-----END OPENSSH PRIVATE KEY-----\n",
       "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI test")


def cluster_of(path: Path) -> Cluster:
    return load_spec(path).cluster


def gpu_cluster(**spec: Any) -> Cluster:
    hosts = [{"name": "cp1", "address": "10.0.0.1", "roles": ["control-plane", "etcd"]}]
    hosts += [{"name": f"gpu{i}", "address": f"10.0.0.{10 + i}", "roles": ["worker"], "gpu": True}
              for i in range(1, 5)]
    return Cluster.model_validate({"metadata": {"name": "lab"},
                                   "spec": {"hosts": hosts, **spec}})


def docs(rendered: r.Rendered) -> list[dict[str, Any]]:
    return [d for name, text in rendered.files.items() if name.endswith(".yaml")
            for d in yaml.safe_load_all(text) if d]


def k8s_version(cluster: Cluster) -> str:
    major_minor = re.match(r"(\d+\.\d+)", cluster.spec.kubernetes.version)
    assert major_minor is not None
    return f"{major_minor[1]}.0"


@pytest.mark.parametrize("level", ["quick", "standard", "full"])
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_every_manifest_of_every_example_is_valid_for_the_cluster_version(
        example: Path, level: str) -> None:
    cluster = cluster_of(example)
    gpus = {h.name: 8 for h in cluster.gpu_hosts}  # as preflight would have counted them
    rendered = r.render(cluster, level, gpus, ssh_key=KEY)  # type: ignore[arg-type]
    objects = docs(rendered)
    assert objects
    for obj in objects:
        kubernetes_validate.validate(obj, k8s_version(cluster), strict=True)


def test_levels_add_checks_and_pin_jobs_to_their_node() -> None:
    cluster = gpu_cluster()
    gpus = {"gpu1": 8, "gpu2": 8, "gpu3": 1}  # gpu4: preflight never counted
    quick = r.render(cluster, "quick", gpus)
    assert list(quick.files) == ["00-namespace.yaml", r.SMOKE_FILE]
    standard = r.render(cluster, "standard", gpus)
    assert list(standard.files) == ["00-namespace.yaml", r.SMOKE_FILE, r.DCGM_FILE,
                                    r.NCCL_NODE_FILE]
    assert standard.notes == ["no GPU count from preflight for gpu4: CUDA smoke only there "
                              "(run `deepctl preflight SPEC` first)"]
    dcgm = list(yaml.safe_load_all(standard.files[r.DCGM_FILE]))
    assert [(j["spec"]["template"]["spec"]["nodeSelector"]["kubernetes.io/hostname"],
             j["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"][m.GPU])
            for j in dcgm] == [("gpu1", 8), ("gpu2", 8), ("gpu3", 1)]  # all GPUs: only if free
    assert "dcgmi diag -r 2 -j" in dcgm[0]["spec"]["template"]["spec"]["containers"][0]["command"][2]
    nccl = list(yaml.safe_load_all(standard.files[r.NCCL_NODE_FILE]))
    assert [j["metadata"]["labels"][m.NODE_LABEL] for j in nccl] == ["gpu1", "gpu2"]  # >= 2 GPUs
    full = r.render(cluster, "full", gpus, ssh_key=KEY)
    assert "dcgmi diag -r 3 -j" in full.files[r.DCGM_FILE]
    assert "50-nccl-multi-all.yaml" in full.files and r.SSH_FILE in full.files


def test_full_runs_across_all_gpu_nodes_and_each_group_as_an_indexed_job() -> None:
    cluster = gpu_cluster(verify={"groups": {"rack-a": ["gpu1", "gpu2"], "rack-b": ["gpu3"]}})
    gpus = {"gpu1": 8, "gpu2": 8, "gpu3": 8, "gpu4": 4}
    full = r.render(cluster, "full", gpus, ssh_key=KEY)
    assert [n for n in full.files if "multi" in n] == ["50-nccl-multi-all.yaml",
                                                      "51-nccl-multi-rack-a.yaml"]  # rack-b: 1
    service, job = yaml.safe_load_all(full.files["50-nccl-multi-all.yaml"])
    assert service["spec"]["clusterIP"] == "None"
    assert job["spec"]["completionMode"] == "Indexed" and job["spec"]["completions"] == 4
    pod = job["spec"]["template"]["spec"]
    assert pod["subdomain"] == service["metadata"]["name"] == job["metadata"]["name"]
    terms = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert terms["nodeSelectorTerms"][0]["matchExpressions"][0]["values"] == \
        ["gpu1", "gpu2", "gpu3", "gpu4"]
    script = pod["containers"][0]["command"][2]
    assert "-np 16 " in script  # 4 nodes x the smallest node's 4 GPUs
    assert pod["containers"][0]["resources"]["limits"][m.GPU] == 4


def test_full_with_slurm_writes_the_srun_form() -> None:
    cluster = gpu_cluster(addons={"slurm": {"enabled": True}})
    full = r.render(cluster, "full", {f"gpu{i}": 8 for i in range(1, 5)}, ssh_key=KEY)
    assert r.SLURM_FILE in full.files
    assert re.search(r"^srun --partition=\S+ --nodes=4 --ntasks-per-node=8 --gres=gpu:8 "
                     r"--mpi=pmix .*all_reduce_perf -b 1G -e 8G -f 2 -g 1$",
                     full.files[r.SLURM_FILE], re.MULTILINE)


def test_nodes_option_restricts_the_hosts() -> None:
    rendered = r.render(gpu_cluster(), "standard", {"gpu1": 8, "gpu2": 8}, nodes=["gpu2"])
    assert [d["metadata"]["labels"].get(m.NODE_LABEL) for d in docs(rendered)
            if d["kind"] == "Job"] == ["gpu2", "gpu2", "gpu2"]


def test_dcgm_image_is_the_one_the_pinned_gpu_operator_chart_deploys() -> None:
    if not CHART_VALUES.is_file():
        pytest.skip(f"{CHART_VALUES} not here")
    dcgm = yaml.safe_load(CHART_VALUES.read_text())["dcgm"]
    assert f"{dcgm['repository']}/{dcgm['image']}:{dcgm['version']}" == images.DCGM_IMAGE


def test_offline_images_come_from_the_mirror() -> None:
    cluster = gpu_cluster(offline={"registry": "registry.lab:5000/mirror", "files": "https://files.lab/k8s"})
    full = r.render(cluster, "full", {f"gpu{i}": 8 for i in range(1, 5)}, ssh_key=KEY)
    refs = {c["image"] for d in docs(full) if d["kind"] == "Job"
            for c in d["spec"]["template"]["spec"]["containers"]}
    assert refs and all(ref.startswith("registry.lab:5000/mirror/") for ref in refs)
    assert "registry.lab:5000/mirror/nvidia/cloud-native/dcgm:4.5.2-1-ubuntu22.04" in refs


def test_every_image_verify_runs_is_in_artifacts_list_and_mirrored_offline() -> None:
    from deepctl.artifacts.listing import deepctl_images
    from deepctl.kubevars.offline import mirror_image

    def job_images(cluster: Cluster) -> set[str]:
        full = r.render(cluster, "full", {f"gpu{i}": 8 for i in range(1, 5)}, ssh_key=KEY)
        return {c["image"] for d in docs(full) if d["kind"] == "Job"
                for c in d["spec"]["template"]["spec"]["containers"]}

    online = gpu_cluster()
    assert job_images(online) == set(deepctl_images(online))
    offline = gpu_cluster(offline={"registry": "registry.lab:5000", "files": "https://files.lab"})
    assert job_images(offline) == {mirror_image(ref, "registry.lab:5000")
                                   for ref in deepctl_images(offline)}


def test_drain_makes_the_checks_tolerate_the_cordon_and_stays_valid() -> None:
    cluster = gpu_cluster()
    gpus = {f"gpu{i}": 8 for i in range(1, 5)}
    plain = docs(r.render(cluster, "full", gpus, ssh_key=KEY))
    drained = docs(r.render(cluster, "full", gpus, ssh_key=KEY, drain=True))
    for before, after in zip(plain, drained, strict=True):
        if after["kind"] != "Job" or after["metadata"]["name"].startswith("deepctl-gpu-smoke"):
            assert before == after  # the smoke Jobs run before the drain
            continue
        added = [t for t in after["spec"]["template"]["spec"]["tolerations"]
                 if t not in before["spec"]["template"]["spec"]["tolerations"]]
        assert added == [m.CORDON]
        kubernetes_validate.validate(after, k8s_version(cluster), strict=True)
