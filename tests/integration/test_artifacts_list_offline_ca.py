"""spec.offline.caFile: the CA playbook on a real-sshd loopback host, with real Ansible (the
CA file itself gone before it runs: the playbook gets its text, as on an executor).

The test hosts share this machine's filesystem, so the playbook's destinations (its play
variables) are pointed into a temporary directory and the trust-store refresh at a recorder;
everything else (SSH, become, facts, copy, change detection) is the real run.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import yaml

from deepctl.ansible import settings as ansible_settings
from deepctl.ansible.runner import PlaybookRun, run_playbook
from deepctl.fsutil import atomic_write, ensure_private_dir
from deepctl.stages.offline_ca import PLAYBOOK, extravars, offline_ca_enabled
from deepctl.templates import playbook_path
from deepctl.workspace import open_workspace
from tests.harness import HostFarm, HostProfile
from tests.tls_support import make_ca

pytestmark = pytest.mark.integration


def test_the_ca_lands_on_the_host_and_the_store_is_refreshed_once(
    tmp_path: Path, ssh_host_farm: HostFarm
) -> None:
    host = ssh_host_farm.add(HostProfile(name="cp1"))
    pem = make_ca(tmp_path).cert.read_text()
    spec = {
        "apiVersion": "deepctl/v1alpha1", "kind": "Cluster", "metadata": {"name": "lab"},
        "spec": {
            "ssh": {"user": "root", "identityFile": str(ssh_host_farm.client_key)},
            "hosts": [{"name": "cp1", "address": host.address, "ssh": {"port": host.port},
                       "roles": ["control-plane", "etcd", "worker"]}],
            "addons": {"gpu": {"enabled": False}, "monitoring": {"enabled": False}},
            "offline": {"files": "http://127.0.0.1:8080/files", "registry": "127.0.0.1:5000",
                        "caFile": "ca.pem"},
        },
    }
    (tmp_path / "cluster.yaml").write_text(yaml.safe_dump(spec))
    ws = open_workspace(tmp_path / "cluster.yaml")
    ws.render_inventory()
    atomic_write(ws.state.known_hosts, ssh_host_farm.known_hosts([host]))
    assert offline_ca_enabled(ws.cluster)
    settings = ansible_settings.settings_for(ws.cluster, ws.state)
    cfg = tmp_path / "ansible.cfg"
    atomic_write(cfg, ansible_settings.render_ansible_cfg(settings))
    out = tmp_path / "host"
    variables = {**extravars(ws.cluster), "deepctl_ca_path": str(out / "mirror-ca.pem"),
                 "deepctl_trust_file": str(out / "trust" / "deepctl-mirror.crt"),
                 "deepctl_trust_update": ["sh", "-c", f"echo refreshed >> {out}/refreshes"]}
    (out / "trust").mkdir(parents=True)
    # the CA travels in the variables: the playbook reads no file of this machine, so that
    # it runs the same on an executor, which has none of them (docs/executor.md)
    assert ws.cluster.spec.offline is not None and ws.cluster.spec.offline.ca_file is not None
    ws.cluster.spec.offline.ca_file.unlink()
    assert str(tmp_path) not in repr(variables["deepctl_ca_pem"])

    def run(n: int) -> None:
        result = run_playbook(PlaybookRun(
            private_data_dir=ensure_private_dir(tmp_path / f"run{n}"), playbook=playbook_path(PLAYBOOK),
            inventory=ws.state.hosts_file, envvars={"ANSIBLE_CONFIG": str(cfg)},
            extravars=variables, ident=f"ca{n}"))
        assert (result.rc, result.status) == (0, "successful"), (
            result.artifact_dir / "stdout").read_text()

    run(1)
    assert (out / "mirror-ca.pem").read_text() == pem
    assert (out / "trust" / "deepctl-mirror.crt").read_text() == pem
    assert stat.S_IMODE((out / "mirror-ca.pem").stat().st_mode) == 0o644
    run(2)  # unchanged: the store is not refreshed again
    assert (out / "refreshes").read_text() == "refreshed\n"
