"""Kubespray's advice for large deployments, applied by deepctl from LARGE_CLUSTER_HOSTS up
(issue 24): in the rendered inventory, the run's ansible.cfg and `deepctl vars`, overridable;
add-node of a large cluster gathers facts only where the cache has none."""

from __future__ import annotations

import configparser
import json
import os
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import yaml
from typer.testing import CliRunner

from deepctl.ansible.settings import render_ansible_cfg, settings_for
from deepctl.cli.application import app
from deepctl.clusterspec.kubespray_map import LARGE_CLUSTER_HOSTS
from deepctl.clusterspec.loader import load_spec_text
from deepctl.clusterspec.models import Cluster
from deepctl.kubevars.render import ALL_VARS_FILE, USER_VARS_FILE, render_inventory
from deepctl.kubevars.report import report
from deepctl.stages.sequences import add_node_stages
from deepctl.state import StateDir


def spec_text(hosts: int, extra: str = "") -> str:
    lines = ["apiVersion: deepctl/v1alpha1", "kind: Cluster", "metadata: {name: big}", "spec:",
             "  addons: {gpu: {enabled: false}, monitoring: {enabled: false}}",
             "  kubernetes: {podSubnet: 10.64.0.0/10, serviceSubnet: 10.32.0.0/16, nodePrefix: 24}",
             extra.rstrip(),
             "  hosts:"]
    for i in range(hosts):
        role = "[control-plane, etcd]" if i < 3 else "[worker]"
        lines.append(f"    - {{name: n{i:04d}, address: 10.{i // 65536}.{(i // 256) % 256}."
                     f"{i % 256}, roles: {role}}}")
    return "\n".join(line for line in lines if line) + "\n"


def cluster(hosts: int, extra: str = "") -> Cluster:
    return load_spec_text(spec_text(hosts, extra), Path("big.yaml")).cluster


def all_vars(c: Cluster) -> dict[str, Any]:
    return dict(yaml.safe_load(render_inventory(c, "big.yaml")[ALL_VARS_FILE]
                               .replace("!unsafe ", "")))


def cfg(c: Cluster) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(render_ansible_cfg(settings_for(c, StateDir(Path("/s")))))
    return parser


def test_the_threshold_is_kubesprays_example() -> None:
    assert LARGE_CLUSTER_HOSTS == 200


def test_kubespray_variables_from_the_threshold_up_only() -> None:
    small, large = all_vars(cluster(10)), all_vars(cluster(1000))
    assert "retry_stagger" not in small and "download_run_once" not in small
    assert large["retry_stagger"] == 60
    assert large["download_run_once"] is True
    assert "retry_stagger" not in all_vars(cluster(LARGE_CLUSTER_HOSTS - 1))
    assert all_vars(cluster(LARGE_CLUSTER_HOSTS))["retry_stagger"] == 60


def test_kubespray_vars_win_and_offline_keeps_downloads_per_host() -> None:
    c = cluster(1000, "  kubesprayVars: {retry_stagger: 10, download_run_once: false}")
    files = render_inventory(c, "big.yaml")
    written = yaml.safe_load(files[ALL_VARS_FILE].replace("!unsafe ", ""))
    assert "retry_stagger" not in written and "download_run_once" not in written
    assert yaml.safe_load(files[USER_VARS_FILE]) == {"retry_stagger": 10,
                                                     "download_run_once": False}
    offline = cluster(1000, "  offline: {files: http://10.0.0.1/files, registry: 10.0.0.1:5000}")
    assert "download_run_once" not in all_vars(offline)
    assert all_vars(offline)["retry_stagger"] == 60


def test_ansible_cfg_forks_and_timeout_at_10_and_1000_hosts() -> None:
    small, large = cfg(cluster(10)), cfg(cluster(1000))
    assert (small["defaults"]["forks"], small["defaults"]["timeout"]) == ("10", "60")
    assert (large["defaults"]["forks"], large["defaults"]["timeout"]) == ("50", "600")
    assert large["defaults"]["fact_caching"] == "jsonfile"
    own = cfg(cluster(1000, "  ansible: {forks: 20, timeout: 120}"))
    assert (own["defaults"]["forks"], own["defaults"]["timeout"]) == ("20", "120")


def test_vars_shows_each_default_with_its_reason(tmp_path: Path) -> None:
    data = report(cluster(1000))
    rows = {r["name"]: r for r in data["variables"]}
    assert rows["retry_stagger"]["kind"] == "derived"
    assert "200 hosts or more" in rows["retry_stagger"]["source"]
    assert rows["retry_stagger"]["differs"] == "yes"  # Kubespray's default is 5
    ansible = {r["name"]: r for r in data["ansible"]}
    assert ansible["timeout"] == {"name": "timeout", "value": "600", "kind": "derived",
                                  "source": "200 hosts or more: Kubespray's advice for large "
                                  "deployments (--timeout=600)"}
    assert ansible["forks"]["value"] == "50"
    small = report(cluster(10))
    assert "retry_stagger" not in {r["name"] for r in small["variables"]}
    assert {r["name"]: r["value"] for r in small["ansible"]}["timeout"] == "60"
    own = report(cluster(1000, "  ansible: {timeout: 120}\n  kubesprayVars: {retry_stagger: 10}"))
    assert {r["name"]: r for r in own["ansible"]}["timeout"]["source"] == "spec.ansible.timeout"
    assert [r["kind"] for r in own["variables"] if r["name"] == "retry_stagger"] == ["kubesprayVars"]

    spec = tmp_path / "big.yaml"
    spec.write_text(spec_text(1000))
    result = CliRunner().invoke(app, ["vars", str(spec)])
    assert result.exit_code == 0, result.output
    assert "  retry_stagger = 60    [derived: 200 hosts or more" in result.output
    assert "  timeout = 600    [derived: 200 hosts or more" in result.output
    as_json = json.loads(CliRunner().invoke(app, ["vars", str(spec), "--json"]).output)
    assert [r["name"] for r in as_json["ansible"]] == ["forks", "timeout", "fact_caching"]


class RecordingRunner:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str | None]] = []

    def run(self, stage: str, playbook: str, *, limit: str | None = None,
            extravars: dict[str, Any] | None = None, on_event: Any = None,
            spread: Any = None) -> object:
        self.calls.append((stage, playbook, limit))
        return None


def facts_call(c: Cluster, state: StateDir) -> tuple[str, str, str | None]:
    stages = add_node_stages("new1", ["worker"])
    facts = next(s for s in stages if s.name == "facts")
    runner = RecordingRunner()
    facts.run(cast(Any, SimpleNamespace(ansible=runner, cluster=c,
                                        ws=SimpleNamespace(state=state, cluster=c))))
    [call] = runner.calls
    return call


def test_add_node_of_a_large_cluster_gathers_only_facts_not_cached(tmp_path: Path) -> None:
    state = StateDir(tmp_path / "state")
    cache = state.fact_cache
    cache.mkdir(parents=True)
    big = cluster(1000, "")
    names = [h.name for h in big.spec.hosts]
    for name in names:
        (cache / name).write_text("{}")
    old = time.time() - 2 * 86400
    os.utime(cache / "n0500", (old, old))  # expired
    (cache / "n0600").unlink()  # never gathered
    # the new host, then the hosts whose cached facts are missing or expired
    assert facts_call(big, state) == ("facts", "playbooks/facts.yml", "new1,n0500,n0600")
    # below the threshold, facts of every host are gathered, as before
    assert facts_call(cluster(10), state) == ("facts", "playbooks/facts.yml", None)
    # nothing cached: every host, no --limit
    assert facts_call(big, StateDir(tmp_path / "empty")) == ("facts", "playbooks/facts.yml", None)
    # scale.yml is still limited to the new host only
    scale = next(s for s in add_node_stages("new1", ["worker"]) if s.name == "scale")
    runner = RecordingRunner()
    scale.run(cast(Any, SimpleNamespace(ansible=runner)))
    assert runner.calls == [("scale", "scale.yml", "new1")]
