"""`artifacts list` evaluates Kubespray's downloads on one representative per host class, with
an inventory of the representatives only (issue 24): the same list as evaluating every host of
the whole inventory, on specs with several classes (roles, a host's own kubesprayVars, an
architecture, Kubespray's download_run_once). Uses the real Kubespray v2.31.0 tree."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from deepctl.artifacts.kubespray_items import evaluate_downloads, merge, representatives
from deepctl.clusterspec.loader import load_spec_text
from deepctl.kubespray.downloads import evaluate_downloads as evaluate_every_host
from deepctl.kubespray.source import KubesprayTree
from deepctl.kubevars.render import HOSTS_FILE, render_hosts, render_inventory, write_inventory

ROOT = Path(__file__).resolve().parents[2]
KUBESPRAY = Path(os.environ.get("DEEPCTL_TEST_KUBESPRAY") or ROOT.parent / "shared" / "kubespray-v2.31.0")
pytestmark = pytest.mark.skipif(
    not (KUBESPRAY / "roles" / "kubespray_defaults").is_dir(),
    reason=f"no Kubespray v2.31.0 tree at {KUBESPRAY} (set DEEPCTL_TEST_KUBESPRAY)")

OWN_RUNC = "http://127.0.0.1:9/own/runc"
SPEC = f"""\
apiVersion: deepctl/v1alpha1
kind: Cluster
metadata: {{name: classes}}
spec:
  hosts:
    - {{name: cp1, address: 192.0.2.11, roles: [control-plane, etcd]}}
    - {{name: cp2, address: 192.0.2.12, roles: [control-plane, etcd, worker]}}
    - {{name: etcd3, address: 192.0.2.13, roles: [etcd]}}
    - {{name: gpu1, address: 192.0.2.31, roles: [worker], gpu: true}}
    - {{name: gpu2, address: 192.0.2.32, roles: [worker], gpu: true}}
    - {{name: gpu3, address: 192.0.2.33, roles: [worker], gpu: true,
        kubesprayVars: {{runc_download_url: "{OWN_RUNC}"}}}}
    - {{name: cpu1, address: 192.0.2.41, roles: [worker]}}
    - {{name: cpu2, address: 192.0.2.42, roles: [worker]}}
    - {{name: arm1, address: 192.0.2.43, roles: [worker]}}
"""
ARCH = {"arm1": "aarch64"}


@pytest.mark.parametrize("extra", ["", "  kubesprayVars: {download_run_once: true}\n"],
                         ids=["plain", "download_run_once"])
def test_the_list_by_class_is_the_list_of_every_host(tmp_path: Path, extra: str) -> None:
    cluster = load_spec_text(SPEC + extra, tmp_path / "c.yaml").cluster
    chosen = representatives(render_hosts(cluster), ARCH)
    assert len(chosen) < len(cluster.spec.hosts)
    assert {"gpu3", "arm1"} <= set(chosen) and "gpu2" not in chosen

    by_class = evaluate_downloads(cluster, KubesprayTree(KUBESPRAY, "spec", "v2.31.0"), ARCH)

    inventory = tmp_path / "inventory"
    write_inventory(inventory, render_inventory(cluster, "c.yaml"))
    every = evaluate_every_host(KUBESPRAY, inventory / HOSTS_FILE,
                                [h.name for h in cluster.spec.hosts], ARCH)
    whole = merge(list(every.values()))

    assert sorted(by_class, key=repr) == sorted(whole, key=repr)
    urls = {d.url for d in by_class}
    assert OWN_RUNC in urls  # gpu3's own variable: a class of its own
    assert any(u and "arm64" in u for u in urls)  # arm1's architecture
