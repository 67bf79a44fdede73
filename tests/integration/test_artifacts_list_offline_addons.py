"""Addon playbooks with spec.offline, against a real-sshd loopback host (helm stood in).

What is real: SSH, Ansible, the shipped playbooks, the chart archive copied to the host.
What is stood in for: helm and kubectl (the harness's recording stand-ins).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from deepctl.fsutil import atomic_write
from deepctl.workspace import Workspace, open_workspace
from tests.harness import HostFarm, HostProfile, TestHost
from tests.integration.test_addons import helm_calls, run_addon

pytestmark = pytest.mark.integration

REGISTRY = "127.0.0.1:5000"


def workspace(tmp_path: Path, farm: HostFarm, host: TestHost, charts: str) -> Workspace:
    spec: dict[str, Any] = {
        "apiVersion": "deepctl/v1alpha1", "kind": "Cluster", "metadata": {"name": "lab"},
        "spec": {
            "ssh": {"user": "root", "identityFile": str(farm.client_key)},
            "hosts": [{"name": host.name, "address": host.address,
                       "roles": ["control-plane", "etcd", "worker"], "ssh": {"port": host.port}}],
            "addons": {"gpu": {"enabled": False}},
            "kubesprayVars": {"bin_dir": str(host.kube_bin_dir)},
            "offline": {"files": "http://127.0.0.1:8080/files", "registry": REGISTRY,
                        "charts": charts},
        },
    }
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    ws = open_workspace(path)
    ws.render_inventory()
    atomic_write(ws.state.known_hosts, farm.known_hosts([host]))
    return ws


def test_charts_from_a_local_directory_are_copied_and_installed_from_the_archive(
    tmp_path: Path, ssh_host_farm: HostFarm
) -> None:
    cp1 = ssh_host_farm.add(HostProfile(name="cp1"))
    charts = tmp_path / "mirror" / "charts"
    charts.mkdir(parents=True)
    (charts / "kube-prometheus-stack-87.5.1.tgz").write_bytes(b"chart archive bytes")
    ws = workspace(tmp_path, ssh_host_farm, cp1, "mirror/charts")
    remote = tmp_path / "remote"
    run_addon(ws, "monitoring", tmp_path / "run", remote)

    assert helm_calls(cp1, "repo") == []
    archive = remote / "kube-prometheus-stack-87.5.1.tgz"
    assert archive.read_bytes() == b"chart archive bytes"
    upgrade = helm_calls(cp1, "upgrade")
    assert len(upgrade) == 1 and upgrade[0][3:5] == ["kube-prometheus-stack", str(archive)]
    values = yaml.safe_load((remote / "kube-prometheus-stack.values.yaml").read_text())
    assert values["prometheus"]["prometheusSpec"]["image"]["registry"] == REGISTRY
    assert values["grafana"]["image"]["registry"] == REGISTRY
    assert values["grafana"]["admin"]["existingSecret"] == "grafana-admin"  # deepctl's own values kept


def test_charts_from_a_mirror_repository(tmp_path: Path, ssh_host_farm: HostFarm) -> None:
    cp1 = ssh_host_farm.add(HostProfile(name="cp1"))
    ws = workspace(tmp_path, ssh_host_farm, cp1, "http://127.0.0.1:8080/charts")
    run_addon(ws, "monitoring", tmp_path / "run", tmp_path / "remote")

    assert helm_calls(cp1, "repo") == [
        ["helm", "repo", "add", "--force-update", "deepctl-offline", "http://127.0.0.1:8080/charts"]]
    assert helm_calls(cp1, "upgrade")[0][3:5] == [
        "kube-prometheus-stack", "deepctl-offline/kube-prometheus-stack"]
