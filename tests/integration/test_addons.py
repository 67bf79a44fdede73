"""Addon playbooks against a real-sshd loopback host with recording helm/kubectl stand-ins.

The control-plane host's ``kube-bin`` stand-ins are Kubespray's ``bin_dir`` (kubesprayVars).
What is real: SSH, Ansible, the shipped playbooks, file modes on the host. What is stood in
for: helm and kubectl (they record their argv and stdin; ``state.json`` scripts answers).
"""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from deepctl.addons.playbook import plan_addon, prepare_addon
from deepctl.addons.registry import get_addon
from deepctl.addons.secrets import grafana_admin_secret
from deepctl.ansible import settings as ansible_settings
from deepctl.ansible.runner import PlaybookResult, PlaybookRun, run_playbook
from deepctl.fsutil import atomic_write, ensure_private_dir
from deepctl.workspace import Workspace, open_workspace
from tests.harness import HostFarm, HostProfile, TestHost

pytestmark = pytest.mark.integration


@pytest.fixture
def cp1(ssh_host_farm: HostFarm) -> Iterator[TestHost]:
    yield ssh_host_farm.add(HostProfile(name="cp1"))


def workspace(tmp_path: Path, farm: HostFarm, host: TestHost, addons: dict[str, Any]) -> Workspace:
    spec = {
        "apiVersion": "deepctl/v1alpha1", "kind": "Cluster", "metadata": {"name": "lab"},
        "spec": {
            "ssh": {"user": "root", "identityFile": str(farm.client_key)},
            "hosts": [{"name": host.name, "address": host.address,
                       "roles": ["control-plane", "etcd", "worker"], "ssh": {"port": host.port}}],
            "addons": addons,
            "kubesprayVars": {"bin_dir": str(host.kube_bin_dir)},
        },
    }
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    ws = open_workspace(path)
    ws.render_inventory()
    atomic_write(ws.state.known_hosts, farm.known_hosts([host]))
    return ws


def run_addon(ws: Workspace, addon: str, work: Path, remote: Path) -> list[PlaybookResult]:
    settings = ansible_settings.settings_for(ws.cluster, ws.state)
    cfg = work.parent / f"{work.name}.ansible.cfg"
    atomic_write(cfg, ansible_settings.render_ansible_cfg(settings))
    runs = [PlaybookRun(private_data_dir=ensure_private_dir(work / "ansible" / item.name),
                        playbook=item.playbook, inventory=ws.state.hosts_file,
                        envvars={"ANSIBLE_CONFIG": str(cfg)}, extravars=item.extravars,
                        ident=f"{addon}-{item.name}")
            for item in prepare_addon(ws, addon, work, remote_dir=str(remote))]
    results = [run_playbook(r) for r in runs]
    for result in results:
        assert (result.rc, result.status) == (0, "successful"), (
            result.artifact_dir / "stdout").read_text()
    return results


def helm_calls(host: TestHost, verb: str) -> list[list[str]]:
    return [c["argv"] for c in host.calls("helm") if c["argv"][1:2] == [verb]]


def deployed(host: TestHost, ws: Workspace, addon: str, status: str = "deployed") -> None:
    """Script helm to report every release of ``addon`` as installed with today's values."""
    for item in plan_addon(ws.cluster, get_addon(addon)).releases:
        rel, ns = item.release.name, item.release.namespace
        entry = {"name": rel, "namespace": ns, "revision": "2", "status": status,
                 "chart": f"{item.release.chart.name}-{item.version}", "app_version": "x"}
        host.set_kube_response("helm", f"list --all --namespace {ns} --filter ^{rel}$",
                               stdout=json.dumps([entry]))
        host.set_kube_response("helm", f"get values {rel}",
                               stdout=json.dumps(yaml.safe_load(item.values)))


def test_monitoring_installs_pinned_chart_with_values_and_secret(
    tmp_path: Path, ssh_host_farm: HostFarm, cp1: TestHost
) -> None:
    ws = workspace(tmp_path, ssh_host_farm, cp1, {"gpu": {"enabled": False}})
    remote = tmp_path / "remote"
    results = run_addon(ws, "monitoring", tmp_path / "run1", remote)

    repo = helm_calls(cp1, "repo")
    assert repo == [["helm", "repo", "add", "--force-update", "prometheus-community",
                     "https://prometheus-community.github.io/helm-charts"]]
    values_file = remote / "kube-prometheus-stack.values.yaml"
    assert helm_calls(cp1, "upgrade") == [[
        "helm", "upgrade", "--install", "kube-prometheus-stack",
        "prometheus-community/kube-prometheus-stack", "--version", "87.5.1",
        "--namespace", "monitoring", "--create-namespace", "--wait", "--timeout", "15m",
        "--values", str(values_file)]]
    assert stat.S_IMODE(values_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(remote.stat().st_mode) == 0o700
    values = yaml.safe_load(values_file.read_text())
    assert values["grafana"]["admin"]["existingSecret"] == "grafana-admin"
    assert values["prometheus"]["prometheusSpec"]["serviceMonitorSelectorNilUsesHelmValues"] is False

    applied = [c for c in cp1.calls("kubectl") if c["argv"][1:] == ["apply", "--filename", "-"]]
    kinds = [yaml.safe_load(c["stdin"])["kind"] for c in applied]
    assert kinds == ["Namespace", "ConfigMap", "Secret"]
    assert yaml.safe_load(applied[1]["stdin"])["metadata"]["labels"]["grafana_dashboard"] == "1"

    secret = grafana_admin_secret(ws.state)
    password = yaml.safe_load(secret.path.read_text())["stringData"]["admin-password"]
    assert yaml.safe_load(applied[2]["stdin"])["stringData"]["admin-password"] == password
    assert_password_nowhere_else(password, tmp_path, cp1, results, keep=secret.path)


def assert_password_nowhere_else(password: str, tmp_path: Path, host: TestHost,
                                 results: list[PlaybookResult], keep: Path) -> None:
    for tool in ("helm", "kubectl"):
        for call in host.calls(tool):
            assert password not in " ".join(call["argv"])
    for result in results:
        for path in result.artifact_dir.rglob("*"):
            if path.is_file():
                assert password not in path.read_text(errors="replace"), path
    for path in tmp_path.rglob("*"):
        if path.is_file() and path != keep:
            assert password not in path.read_text(errors="replace"), path
    assert stat.S_IMODE(keep.stat().st_mode) == 0o600


def test_second_run_installs_nothing(tmp_path: Path, ssh_host_farm: HostFarm, cp1: TestHost) -> None:
    ws = workspace(tmp_path, ssh_host_farm, cp1, {"gpu": {"enabled": True},
                                                   "monitoring": {"enabled": False}})
    run_addon(ws, "gpu", tmp_path / "run1", tmp_path / "remote")
    assert len(helm_calls(cp1, "upgrade")) == 1
    assert "nvidia/gpu-operator" in helm_calls(cp1, "upgrade")[0]
    deployed(cp1, ws, "gpu")
    cp1.clear_calls()
    run_addon(ws, "gpu", tmp_path / "run2", tmp_path / "remote")
    assert helm_calls(cp1, "upgrade") == [] and helm_calls(cp1, "rollback") == []
    assert [c[1:3] for c in helm_calls(cp1, "get")] == [["get", "values"]]
    cp1.set_kube_response("helm", "get values gpu-operator", stdout='{"driver": {"enabled": true}}')
    cp1.clear_calls()
    run_addon(ws, "gpu", tmp_path / "run3", tmp_path / "remote")  # values drifted: upgrade
    assert [argv[3] for argv in helm_calls(cp1, "upgrade")] == ["gpu-operator"]


def test_failed_and_stuck_releases_are_repaired(
    tmp_path: Path, ssh_host_farm: HostFarm, cp1: TestHost
) -> None:
    ws = workspace(tmp_path, ssh_host_farm, cp1, {"gpu": {"enabled": False},
                                                   "monitoring": {"enabled": False},
                                                   "logging": {"enabled": True}})
    deployed(cp1, ws, "logging")
    loki = json.dumps([{"name": "loki", "status": "failed", "chart": "loki-18.11.0"}])
    alloy = json.dumps([{"name": "alloy", "status": "pending-upgrade", "chart": "alloy-1.11.1"}])
    cp1.set_kube_response("helm", "list --all --namespace logging --filter ^loki$", stdout=loki)
    cp1.set_kube_response("helm", "list --all --namespace logging --filter ^alloy$", stdout=alloy)
    run_addon(ws, "logging", tmp_path / "run", tmp_path / "remote")
    upgraded = [argv[3] for argv in helm_calls(cp1, "upgrade")]
    assert upgraded == ["loki", "alloy"]
    assert [argv[2] for argv in helm_calls(cp1, "rollback")] == ["alloy"]
    verbs = [c["argv"][1] for c in cp1.calls("helm") if c["argv"][1] in ("rollback", "upgrade")]
    assert verbs == ["upgrade", "rollback", "upgrade"]  # loki; then alloy rolled back first


def test_disabled_addon_runs_nothing(tmp_path: Path, ssh_host_farm: HostFarm, cp1: TestHost) -> None:
    ws = workspace(tmp_path, ssh_host_farm, cp1, {"jupyterhub": {"enabled": False}})
    assert prepare_addon(ws, "jupyterhub", tmp_path / "run") == []
    assert prepare_addon(ws, "storage", tmp_path / "run") == []
    assert cp1.calls("helm") == [] and cp1.calls("kubectl") == []
    assert not (tmp_path / "run").exists()
