"""`deepctl status` at 5,000 nodes against the stand-in API (tests/fixtures/k8s_api_standin):
lists read in pages (limit/continue), only GPU pods kept, identical healthy nodes grouped
into one row per kind with the outliers listed, <= 60 lines no wider than 200 columns;
`--nodes all` one row per node; `--json` complete."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from deepctl.cli.application import app
from deepctl.state import StateDir
from deepctl.status.model import NodeGpus, NodeStatus
from deepctl.status.node_groups import NodeGroup, group_nodes
from deepctl.status.nodes import gpu_pod, node_fields
from tests.fixtures import k8s_objects as k
from tests.fixtures.k8s_api_standin import KubeApiStandin

TOKEN = "standin-token-scale"
WORKERS = 4999


def scale_spec(workers: int) -> str:
    hosts = "\n".join(f"    - {{name: gpu{i:04d}, address: 10.1.{i // 250}.{i % 250 + 1}, "
                      "roles: [worker], gpu: true}" for i in range(1, workers + 1))
    return k.SPEC_YAML.replace("spec:\n", "spec:\n  kubernetes: {podSubnet: 10.64.0.0/10, "
                               "serviceSubnet: 10.32.0.0/16}\n").replace(
        "    - {name: gpu1, address: 127.0.1.2, roles: [worker], gpu: true}\n"
        "    - {name: gpu2, address: 127.0.1.3, roles: [worker], gpu: true}\n", hosts + "\n")


def scale_objects(workers: int) -> list[dict[str, Any]]:
    """The lab's addons, cp1, and ``workers`` GPU nodes, each with a training pod (2 GPUs)
    and two pods without GPUs; gpu0100 NotReady, gpu0200 with no GPU allocatable, and a node
    that is not in the spec."""
    objects = [o for o in k.healthy_gpu_cluster() if o["kind"] not in ("Node", "Pod")]
    objects.append(k.node("cp1", "127.0.1.1", control_plane=True))
    for i in range(1, workers + 1):
        name = f"gpu{i:04d}"
        objects.append(k.node(name, f"10.1.{i // 250}.{i % 250 + 1}", gpus=8, ready=i != 100,
                              allocatable=0 if i == 200 else None))
        objects += [k.pod(f"train-{i}", "default", name, gpus=2),
                    k.pod(f"log-{i}", "logging", name), k.pod(f"net-{i}", "kube-system", name)]
    objects.append(k.node("stray1", "10.9.9.9"))
    return objects


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, KubeApiStandin]]:
    root = tmp_path_factory.mktemp("status-scale")
    spec = root / "cluster.yaml"
    spec.write_text(scale_spec(WORKERS))
    state = StateDir(root / ".deepctl" / "lab")
    api = KubeApiStandin(token=TOKEN).add(*scale_objects(WORKERS)).start()
    api.write_kubeconfig(state.kubeconfig)
    yield spec, api
    api.stop()


def status(spec: Path, *args: str) -> Any:
    return CliRunner().invoke(app, ["status", str(spec), *args], env={"COLUMNS": "200"})


def test_status_at_5000_nodes_groups_the_healthy_and_lists_the_outliers(
        big: tuple[Path, KubeApiStandin]) -> None:
    spec, api = big
    api.requests.clear()
    api.queries.clear()
    result = status(spec)
    assert result.exit_code == 1, result.output  # gpu0100 NotReady, gpu0200 without GPUs
    lines = result.stdout.splitlines()
    assert len(lines) <= 60, len(lines)
    assert max(len(line) for line in lines) <= 200
    out = result.stdout
    assert "Nodes: 4998 healthy of 5001 in 2 groups" in out
    assert "4997: gpu[0001-0099], gpu[0101-0199], gpu[0201-4999]" in out
    assert "Nodes needing attention: 3" in out
    for outlier in ("gpu0100", "gpu0200", "stray1 (not in spec)"):
        assert outlier in out
    assert "GPUs 39984 allocatable" in out and "9998 in use" in out
    # read in pages of 500, as kubectl does
    node_pages = [q for p, q in zip(api.requests, api.queries, strict=True) if p == "/api/v1/nodes"]
    assert len(node_pages) == 11 and all("limit=500" in q for q in node_pages)
    assert "continue=500" in node_pages[1]


def test_status_nodes_all_and_json_keep_every_node(big: tuple[Path, KubeApiStandin]) -> None:
    spec, _ = big
    wide = status(spec, "--nodes", "all")
    rows = {m.group(1) for m in re.finditer(r"^│ (gpu\d{4}) ", wide.stdout, re.MULTILINE)}
    assert len(rows) == WORKERS  # one row per node (in each part of a split table)
    doc = json.loads(status(spec, "--json").stdout)
    assert len(doc["nodes"]) == WORKERS + 2
    assert doc["totals"]["gpusInUse"] == 2 * WORKERS
    assert status(spec, "--nodes", "some").exit_code == 2


def test_only_gpu_pods_and_the_fields_used_are_kept() -> None:
    assert gpu_pod(k.pod("net", "kube-system", "n1")) is None
    assert gpu_pod({**k.pod("train", "default", "n1", gpus=2), "kind": "Pod"}) == {
        "kind": "Pod", "metadata": {"name": "train", "namespace": "default"},
        "spec": {"nodeName": "n1", "containers": [
            {"resources": {"requests": {"nvidia.com/gpu": "2"},
                           "limits": {"nvidia.com/gpu": "2"}}}]},
        "status": {"phase": "Running"}}
    trimmed = node_fields(k.node("gpu1", "10.0.0.1", gpus=8))
    assert set(trimmed["metadata"]) == {"name", "labels"}
    assert trimmed["status"]["nodeInfo"] == {"kubeletVersion": k.KUBELET}
    assert "conditions" in trimmed["status"] and "images" not in trimmed["status"]


def test_group_nodes_by_everything_but_name_address_and_use() -> None:
    def gpu(name: str, in_use: int, status: str = "Ready") -> NodeStatus:
        return NodeStatus(name, True, True, status == "Ready", status, ["worker"], "v1.35.4",
                          "10.0.0.1", gpu_host=True,
                          gpus=NodeGpus(8, 8, in_use, None, "H100"))

    nodes = [gpu("g1", 1), gpu("g2", 2), gpu("g3", 0, "NotReady"), gpu("g4", 3)]
    groups, outliers = group_nodes(nodes, {"g4"})
    assert groups == [NodeGroup("Ready", "worker", "v1.35.4", "-", "8/8", "unknown", "H100", "-",
                                ("g1", "g2"), 3)]
    assert [n.name for n in outliers] == ["g3", "g4"]
