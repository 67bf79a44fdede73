"""Preflight (paramiko) and Ansible (OpenSSH) log in the same way to the same real sshd hosts.

One spec: two hosts on their own ports, a bastion, a *relative* key path protected by a
passphrase and held by a real ssh-agent that also holds another authorized key (offered
first). Each tool runs once; what the hosts' sshd logged ("Accepted publickey for USER ...
FINGERPRINT") must be the same for both: the same user, the same key, on the same ports,
through the bastion; and Ansible must accept the host keys preflight recorded.
What is real: sshd, ssh-agent, ssh-keygen, OpenSSH, Ansible, paramiko. Nothing is stood in.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from deepctl.ansible import settings as ansible_settings
from deepctl.ansible.runner import PlaybookRun, run_playbook
from deepctl.fsutil import atomic_write
from deepctl.preflight import run_preflight
from deepctl.workspace import open_workspace
from tests.harness import HostFarm, HostProfile, TestHost

pytestmark = pytest.mark.integration
PASSPHRASE = "a long passphrase"
ACCEPTED = re.compile(r"Accepted publickey for (\S+) from \S+ port \d+ ssh2: \S+ (SHA256:\S+)")


def keygen(path: Path, passphrase: str = "") -> str:
    """Create a key; return its SHA256 fingerprint."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-f", str(path)],
                   check=True)
    out = subprocess.run(["ssh-keygen", "-lf", f"{path}.pub"], check=True, text=True,
                         capture_output=True).stdout
    return out.split()[1]


@pytest.fixture
def agent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A real ssh-agent on a socket in tmp_path, exported as SSH_AUTH_SOCK."""
    if shutil.which("ssh-agent") is None or shutil.which("ssh-add") is None:
        pytest.skip("ssh-agent/ssh-add (openssh-client) are not installed")
    socket_path = tmp_path / "agent.sock"
    proc = subprocess.Popen(["ssh-agent", "-D", "-a", str(socket_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        if socket_path.exists():
            break
        subprocess.run(["sleep", "0.05"], check=True)
    monkeypatch.setenv("SSH_AUTH_SOCK", str(socket_path))
    yield socket_path
    proc.terminate()
    proc.wait(timeout=10)


def ssh_add(key: Path, socket_path: Path, tmp_path: Path) -> None:
    askpass = tmp_path / "askpass.sh"
    askpass.write_text(f"#!/bin/sh\necho '{PASSPHRASE}'\n")
    askpass.chmod(0o700)
    env = {**os.environ, "SSH_AUTH_SOCK": str(socket_path), "SSH_ASKPASS": str(askpass),
           "SSH_ASKPASS_REQUIRE": "force", "DISPLAY": ":0"}
    subprocess.run(["ssh-add", str(key)], check=True, env=env, stdin=subprocess.DEVNULL,
                   capture_output=True)


def logins(hosts: list[TestHost], offsets: dict[str, int]) -> dict[str, list[tuple[str, str]]]:
    """(user, key fingerprint) of every login each host's sshd accepted since ``offsets``."""
    out = {}
    for host in hosts:
        with open(host.log_path, "rb") as log:
            log.seek(offsets.get(host.name, 0))
            text = log.read().decode("utf-8", errors="replace")
        out[host.name] = ACCEPTED.findall(text)
    return out


def log_sizes(hosts: list[TestHost]) -> dict[str, int]:
    return {h.name: h.log_path.stat().st_size for h in hosts}


def test_preflight_and_ansible_use_the_same_user_port_key_bastion_agent_and_host_keys(
        tmp_path: Path, ssh_host_farm: HostFarm, agent: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    n1, n2 = ssh_host_farm.add_many([HostProfile(name="n1"), HostProfile(name="n2")])
    bastion = ssh_host_farm.add_bastion()
    work = tmp_path / "site"
    (work / "keys").mkdir(parents=True)
    spec_key = work / "keys" / "deploy"
    spec_fp = keygen(spec_key, PASSPHRASE)
    decoy_fp = keygen(tmp_path / "decoy")
    for host in (n1, n2, bastion):  # both keys would be let in; only the spec's may be used
        with open(host._layout.authorized_keys, "a", encoding="ascii") as keys:
            keys.write(Path(f"{spec_key}.pub").read_text() + (tmp_path / "decoy.pub").read_text())
    ssh_add(tmp_path / "decoy", agent, tmp_path)  # offered first by an agent
    ssh_add(spec_key, agent, tmp_path)

    spec = {"apiVersion": "deepctl/v1alpha1", "kind": "Cluster", "metadata": {"name": "lab"},
            "spec": {
                "ssh": {"user": "root", "identityFile": "keys/deploy", "become": False,
                        "bastion": {"address": bastion.address, "port": bastion.port}},
                "hosts": [{"name": h.name, "address": h.address, "ssh": {"port": h.port},
                           "roles": ["control-plane", "etcd", "worker"] if h is n1
                           else ["worker"]} for h in (n1, n2)],
                "addons": {"gpu": {"enabled": False}}}}
    (work / "cluster.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    monkeypatch.chdir(tmp_path)  # not the spec's directory: relative keys must not depend on it
    ws = open_workspace(work / "cluster.yaml")
    hosts = [n1, n2, bastion]

    before = log_sizes(hosts)
    report = run_preflight(ws, accept_new_hosts=True, timeout=10)
    assert [f.message for f in report.findings if f.status == "error"] == []
    by_preflight = logins(hosts, before)
    recorded = ws.state.known_hosts.read_text()
    assert len(report.new_host_keys) == 3  # n1, n2 and the bastion, trust on first use

    ws.render_inventory()
    settings = ansible_settings.settings_for(ws.cluster, ws.state)
    cfg = tmp_path / "ansible.cfg"
    atomic_write(cfg, ansible_settings.render_ansible_cfg(settings))
    playbook = tmp_path / "whoami.yml"
    playbook.write_text("- hosts: all\n  gather_facts: false\n  tasks:\n"
                        "    - ansible.builtin.raw: id -un\n")
    (tmp_path / "ansible").mkdir()
    before = log_sizes(hosts)
    result = run_playbook(PlaybookRun(private_data_dir=tmp_path / "ansible", playbook=playbook,
                                      inventory=ws.state.inventory_dir,
                                      envvars={"ANSIBLE_CONFIG": str(cfg)}))
    assert (result.rc, result.status) == (0, "successful"), \
        (result.artifact_dir / "stdout").read_text()
    by_ansible = logins(hosts, before)

    for name in ("n1", "n2", "bastion"):
        assert set(by_preflight[name]) == {("root", spec_fp)}, (name, by_preflight)
        assert set(by_ansible[name]) == set(by_preflight[name]), (name, by_ansible)
    assert decoy_fp not in str(by_preflight) + str(by_ansible)
    assert ws.state.known_hosts.read_text() == recorded  # Ansible accepted exactly those keys
