"""Isolated test hosts: what real Kubespray writes on them never reaches the real root."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness import HostFarm, HostProfile, TestHost
from tests.harness.fixtures import require_real_sshd_hosts
from tests.harness.isolated import missing_isolation

pytestmark = pytest.mark.integration

CAPABILITY_BITS = {"sys_module": 16, "net_admin": 12, "sys_time": 25, "sys_boot": 22}


@pytest.fixture(scope="module")
def pair() -> Iterator[tuple[HostFarm, TestHost, TestHost]]:
    require_real_sshd_hosts()
    reason = missing_isolation()
    if reason is not None:
        pytest.skip(f"isolated test hosts unavailable: {reason}")
    with HostFarm(pool="function") as farm:
        one, two = farm.add_many([HostProfile("iso1", isolated=True), HostProfile("iso2", isolated=True)])
        yield farm, one, two


def test_a_file_written_to_etc_over_ssh_stays_on_that_host(pair: tuple[HostFarm, TestHost, TestHost]
                                                            ) -> None:
    _, one, two = pair
    name = f"/etc/deepctl-isolation-{uuid.uuid4().hex}"
    one.run(f"echo written-on-iso1 > {name}; mkdir -p /usr/local/lib/deepctl-probe; useradd deepctlprobe")
    assert one.run(f"cat {name}") == "written-on-iso1\n"
    assert not Path(name).exists()  # the real root
    assert two.ssh(f"test -e {name}").returncode == 1
    assert not Path("/usr/local/lib/deepctl-probe").exists()
    assert "deepctlprobe" not in Path("/etc/passwd").read_text(encoding="utf-8")
    assert "deepctlprobe" in one.run("getent passwd deepctlprobe")


def test_each_host_has_its_own_hostname_machine_id_and_processes(
        pair: tuple[HostFarm, TestHost, TestHost]) -> None:
    _, one, two = pair
    real_id = Path("/etc/machine-id").read_text(encoding="ascii").strip()
    ids = {host.run("cat /etc/machine-id").strip() for host in (one, two)}
    assert len(ids) == 2 and real_id not in ids and one.machine_id in ids
    assert [one.run("hostname").strip(), two.run("hostname").strip()] == ["iso1", "iso2"]
    assert socket.gethostname() not in ("iso1", "iso2")
    assert one.run("cat /proc/1/comm").strip() == "sh"  # own PID namespace: its init is PID 1
    assert not one.run(f"ls /proc | grep -x {os.getpid()} || true").strip()


def test_kernel_settings_are_read_only_and_capabilities_are_dropped(
        pair: tuple[HostFarm, TestHost, TestHost]) -> None:
    _, one, _ = pair
    refused = one.ssh("echo 1 > /proc/sys/net/ipv4/ip_forward")
    assert refused.returncode != 0 and "Read-only file system" in refused.stderr
    assert "Read-only file system" in one.ssh("touch /sys/deepctl-probe").stderr
    bounding = int(one.run("grep CapBnd /proc/self/status").split()[1], 16)
    for name, bit in CAPABILITY_BITS.items():
        assert not bounding & (1 << bit), f"{name} is still in the bounding set"
    assert one.ssh("modprobe -n dummy 2>&1; ip link add deepctl0 type dummy").returncode != 0
    # Kubespray's sysctl settings reach the recording stand-in, never the shared kernel
    real = Path("/proc/sys/net/ipv4/ip_forward").read_text(encoding="ascii")
    flipped = "0" if real.strip() == "1" else "1"
    assert one.run(f"sudo sysctl -w net.ipv4.ip_forward={flipped}; sysctl -n net.ipv4.ip_forward"
                   ).endswith(f"\n{flipped}\n")
    assert Path("/proc/sys/net/ipv4/ip_forward").read_text(encoding="ascii") == real
    assert one.calls("sysctl")[0]["argv"] == ["sysctl", "-w", f"net.ipv4.ip_forward={flipped}"]


def test_system_stand_ins_record_and_hostnamectl_changes_only_this_host(
        pair: tuple[HostFarm, TestHost, TestHost]) -> None:
    _, one, two = pair
    one.clear_calls()
    one.run("systemctl enable --now containerd; hostnamectl set-hostname renamed")
    assert one.run("systemctl is-active containerd").strip() == "active"
    assert one.run("hostname; cat /etc/hostname") == "renamed\nrenamed\n"
    assert two.run("hostname").strip() == "iso2"
    assert [c["argv"] for c in one.calls("systemctl")] == [
        ["systemctl", "enable", "--now", "containerd"], ["systemctl", "is-active", "containerd"]]
    header = one.run("head -2 /usr/local/sbin/systemctl").splitlines()[1]
    assert header.startswith("# deepctl test-harness stand-in")
    one.run("hostnamectl set-hostname iso1")


def chrooted_into(root: str) -> list[int]:
    pids = []
    for entry in Path("/proc").glob("[0-9]*/root"):
        try:
            if os.readlink(entry).startswith(root):
                pids.append(int(entry.parent.name))
        except OSError:
            continue
    return pids


def test_stopping_a_host_ends_every_process_in_its_root() -> None:
    with HostFarm(pool="function") as farm:
        host = farm.add(HostProfile("iso3", isolated=True))
        host.run("dd if=/dev/zero of=/var/tmp/blob bs=1M count=8 status=none")
        root = str(host.dir / "rootfs")
        assert chrooted_into(root)  # sshd and its init run inside the host's own root
        host.stop()
        assert chrooted_into(root) == []
        assert list(Path(root).iterdir()) == []  # the overlay lived only in its namespace
