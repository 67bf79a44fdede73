"""examples/*.yaml: each validates, renders an inventory, and is exactly what
`deepctl init --example NAME` writes (so the examples cannot drift from init)."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from deepctl.cli.application import app
from deepctl.clusterspec.loader import load_spec
from deepctl.init_spec import EXAMPLES
from deepctl.workspace import open_workspace

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"


class InventoryLoader(yaml.SafeLoader):
    """Reads rendered inventories: ``!unsafe`` strings become plain strings."""


InventoryLoader.add_constructor(
    "!unsafe", lambda loader, node: loader.construct_scalar(node)  # type: ignore[arg-type]
)


def read_inventory(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=InventoryLoader)


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_is_what_init_writes(name: str, tmp_path: Path) -> None:
    output = tmp_path / f"{name}.yaml"
    result = CliRunner().invoke(app, ["init", "--example", name, "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert (EXAMPLES_DIR / f"{name}.yaml").read_text(encoding="utf-8") == output.read_text(
        encoding="utf-8"
    ), f"regenerate: .venv/bin/deepctl init --example {name} -o examples/{name}.yaml --force"


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_validates_without_warnings_and_renders(name: str, tmp_path: Path) -> None:
    spec = EXAMPLES_DIR / f"{name}.yaml"
    assert load_spec(spec, strict=True).warnings == []
    ws = open_workspace(spec, tmp_path / "state")
    written = ws.render_inventory()
    assert ws.state.hosts_file in written
    assert stat.S_IMODE(ws.state.hosts_file.stat().st_mode) == 0o600
    groups = read_inventory(ws.state.hosts_file)["all"]["children"]
    assert sorted(groups["kube_control_plane"]["hosts"]) == sorted(
        h.name for h in ws.cluster.control_plane
    )
    assert sorted(groups["etcd"]["hosts"]) == sorted(h.name for h in ws.cluster.etcd)
    assert sorted(groups["kube_node"]["hosts"]) == sorted(h.name for h in ws.cluster.workers)


def test_ha_example_has_three_control_planes_three_etcd_and_workers() -> None:
    cluster = load_spec(EXAMPLES_DIR / "ha.yaml").cluster
    assert len(cluster.control_plane) == 3
    assert len(cluster.etcd) == 3
    assert cluster.workers
    assert cluster.spec.kubernetes.api_server_load_balancer is not None


def test_gpu_example_has_gpu_hosts_and_the_gpu_addon(tmp_path: Path) -> None:
    ws = open_workspace(EXAMPLES_DIR / "gpu-cluster.yaml", tmp_path / "state")
    assert ws.cluster.gpu_hosts
    assert ws.cluster.spec.addons.gpu.enabled
    ws.render_inventory()
    hosts = read_inventory(ws.state.hosts_file)["all"]["hosts"]
    for host in ws.cluster.gpu_hosts:
        assert hosts[host.name]["node_labels"]["nvidia.com/gpu.present"] == "true"


def test_single_node_example_runs_every_role_on_one_host() -> None:
    cluster = load_spec(EXAMPLES_DIR / "single-node.yaml").cluster
    assert [h.name for h in cluster.spec.hosts] == ["node1"]
    assert cluster.control_plane == cluster.etcd == cluster.workers
