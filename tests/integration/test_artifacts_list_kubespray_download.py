"""Kubespray's own download code, on deepctl's offline inventory, asks the loopback mirror.

Not a whole ``deploy`` (that needs isolated hosts: the real-sshd test hosts share this
machine's filesystem, and cluster.yml would reconfigure it). Instead the real Kubespray role
``download`` runs its ``download_file.yml`` for kubeadm, Kubespray's first file download, on a
real-sshd loopback host, with deepctl's rendered inventory (spec.offline.files at a loopback
HTTP server) and ``local_release_dir`` in a temporary directory. The server's log must show the
request at the path ``artifacts list`` gives; the file it serves is not the real kubeadm, so
Kubespray's checksum check refuses it, which also shows the pinned checksum is enforced.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from deepctl.ansible import settings as ansible_settings
from deepctl.ansible.runner import PlaybookRun, run_playbook
from deepctl.artifacts.kubespray_items import evaluate_downloads
from deepctl.fsutil import atomic_write, ensure_private_dir
from deepctl.kubespray.source import KubesprayTree
from deepctl.kubevars.offline import mirror_path
from deepctl.workspace import open_workspace
from tests.harness import HostFarm, HostProfile

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
KUBESPRAY = Path(os.environ.get("DEEPCTL_TEST_KUBESPRAY") or ROOT.parent / "shared" / "kubespray-v2.31.0")

PLAYBOOK = """\
- name: Kubespray's file download of kubeadm
  hosts: kube_control_plane[0]
  gather_facts: true
  roles:
    - role: kubespray_defaults
      when: false
  tasks:
    - name: Kubespray download_file.yml
      ansible.builtin.include_role:
        name: download
        tasks_from: download_file.yml
      vars:
        download: "{{ download_defaults | combine(downloads.kubeadm) }}"
"""


class Logged(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        self.server.seen.append(f"{self.command} {self.path}")  # type: ignore[attr-defined]


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[tuple[int, list[str], Path]]:
    root = tmp_path / "mirror"
    root.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Logged, directory=str(root)))
    server.seen = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], server.seen, root  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


@pytest.mark.skipif(not (KUBESPRAY / "roles" / "download").is_dir(),
                    reason=f"no Kubespray v2.31.0 tree at {KUBESPRAY} (set DEEPCTL_TEST_KUBESPRAY)")
def test_kubesprays_first_download_hits_the_mirror_at_the_listed_path(
    tmp_path: Path, ssh_host_farm: HostFarm, mirror: tuple[int, list[str], Path]
) -> None:
    port, seen, root = mirror
    host = ssh_host_farm.add(HostProfile(name="cp1"))
    files = f"http://127.0.0.1:{port}/files"
    spec = {
        "apiVersion": "deepctl/v1alpha1", "kind": "Cluster", "metadata": {"name": "lab"},
        "spec": {
            "ssh": {"user": "root", "identityFile": str(ssh_host_farm.client_key)},
            "hosts": [{"name": "cp1", "address": host.address, "ssh": {"port": host.port},
                       "roles": ["control-plane", "etcd", "worker"]}],
            "addons": {"gpu": {"enabled": False}, "monitoring": {"enabled": False}},
            "offline": {"files": files, "registry": "127.0.0.1:5000", "insecureRegistry": True},
            "kubesprayVars": {"local_release_dir": str(tmp_path / "releases"),
                              "download_retries": 1, "retry_stagger": 0, "unsafe_show_logs": True},
        },
    }
    (tmp_path / "cluster.yaml").write_text(yaml.safe_dump(spec))
    ws = open_workspace(tmp_path / "cluster.yaml")
    ws.render_inventory()
    atomic_write(ws.state.known_hosts, ssh_host_farm.known_hosts([host]))
    tree = KubesprayTree(KUBESPRAY, "spec", "v2.31.0")
    kubeadm = next(d for d in evaluate_downloads(ws.cluster.model_copy(update={
        "spec": ws.cluster.spec.model_copy(update={"offline": None})}), tree) if d.name == "kubeadm")
    assert kubeadm.url is not None
    expected = f"/files/{mirror_path(kubeadm.url)}"
    (root / expected.lstrip("/")).parent.mkdir(parents=True)
    (root / expected.lstrip("/")).write_bytes(b"not the real kubeadm")

    cfg = tmp_path / "ansible.cfg"
    settings = ansible_settings.settings_for(ws.cluster, ws.state)
    atomic_write(cfg, ansible_settings.render_ansible_cfg(settings))
    playbook = ensure_private_dir(tmp_path / "project") / "download.yml"
    atomic_write(playbook, PLAYBOOK)
    failures: list[str] = []

    def on_event(event: dict[str, Any]) -> None:
        if event.get("event") == "runner_on_failed":
            failures.append(str((event["event_data"].get("res") or {}).get("msg", "")))

    result = run_playbook(PlaybookRun(
        private_data_dir=ensure_private_dir(tmp_path / "run"), playbook=playbook,
        inventory=ws.state.hosts_file, ident="download",
        envvars={"ANSIBLE_CONFIG": str(cfg), "ANSIBLE_ROLES_PATH": str(KUBESPRAY / "roles"),
                 "ANSIBLE_LIBRARY": str(KUBESPRAY / "library")}), on_event=on_event)

    assert f"GET {expected}" in seen, seen
    version = ws.cluster.spec.kubernetes.version
    assert expected == f"/files/dl.k8s.io/release/v{version}/bin/linux/amd64/kubeadm"
    assert result.rc != 0
    assert any("checksum" in message.lower() for message in failures), failures
    assert not (tmp_path / "releases" / f"kubeadm-{version}-amd64").exists()
