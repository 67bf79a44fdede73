"""Proves the loopback test-host harness: real sshd hosts with stand-in GPU and Kube tools."""

from __future__ import annotations

import os
import re
import socket
import subprocess
from pathlib import Path

import pytest

from tests.harness import Endpoint, HostFarm, HostProfile, TestHost, support
from tests.harness.addresses import can_bind, lease_address
from tests.harness.fixtures import SharedSshHosts, require_real_sshd_hosts
from tests.harness.processes import is_alive, pids_in_namespaces
from tests.harness.support import sudo_installed

pytestmark = pytest.mark.integration

CSV_QUERY = "index,name,uuid,memory.total,driver_version,mig.mode.current"
GPU_UUID = r"GPU-[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}"
H100_CSV_LINE = re.compile(rf"^\d, NVIDIA H100 80GB HBM3, {GPU_UUID}, 81559 MiB, 570\.133\.20, Disabled$")


def strict_ssh(
    host: TestHost, farm: HostFarm, tmp_path: Path, command: str, *, known_hosts: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The real ssh client, verifying the host key against a known_hosts file from the farm."""
    known_hosts_file = tmp_path / f"known_hosts-{host.name}"
    known_hosts_file.write_text(farm.known_hosts([host]) if known_hosts is None else known_hosts)
    argv = [
        "ssh", "-F", "/dev/null", "-i", str(farm.client_key), "-o", "IdentitiesOnly=yes",
        "-o", f"UserKnownHostsFile={known_hosts_file}", "-o", "StrictHostKeyChecking=yes",
        "-o", "BatchMode=yes", "-o", "ConnectTimeout=5",
        "-p", str(host.port), f"root@{host.address}", command,
    ]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)


def accepts_connections(endpoint: Endpoint) -> bool:
    with socket.socket() as probe:
        probe.settimeout(2)
        return probe.connect_ex((endpoint.address, endpoint.port)) == 0


# -- identity: hostname, machine-id, os-release, host keys --------------------------------------


def test_each_host_has_its_own_hostname_machine_id_and_os(
    shared_ssh_hosts: SharedSshHosts, tmp_path: Path
) -> None:
    expected_os = {"cp1": "ubuntu 24.04", "gpu1": "ubuntu 24.04", "gpu2": "ubuntu 22.04", "wk1": "debian 12"}
    machine_ids = set()
    for host in shared_ssh_hosts.nodes:
        result = strict_ssh(
            host, shared_ssh_hosts.farm, tmp_path, ". /etc/os-release; hostname; cat /etc/machine-id; "
            'echo "$ID $VERSION_ID"',
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        hostname, machine_id, os_release = result.stdout.splitlines()
        assert hostname == host.name
        assert machine_id == host.machine_id
        assert os_release == expected_os[host.name]
        machine_ids.add(machine_id)
    assert len(machine_ids) == len(shared_ssh_hosts.nodes)
    assert re.fullmatch(r"[0-9a-f]{32}", machine_ids.pop())


def test_host_keys_are_really_verified(shared_ssh_hosts: SharedSshHosts, tmp_path: Path) -> None:
    cp1, wk1 = shared_ssh_hosts.cp1, shared_ssh_hosts.wk1
    wrong_key = shared_ssh_hosts.farm.known_hosts([cp1]).replace(cp1.host_key_public, wk1.host_key_public)
    result = strict_ssh(cp1, shared_ssh_hosts.farm, tmp_path, "true", known_hosts=wrong_key)
    assert result.returncode == 255
    assert "REMOTE HOST IDENTIFICATION HAS CHANGED" in result.stderr


def test_duplicate_and_unsupported_hosts(ssh_host_farm: HostFarm) -> None:
    cloned = "0123456789abcdef0123456789abcdef"
    a, b, alpine = ssh_host_farm.add_many(
        [
            HostProfile(name="clone-a", machine_id=cloned),
            HostProfile(name="clone-b", machine_id=cloned, os="rocky-9"),
            HostProfile(name="odd", os="alpine-3.20"),
        ]
    )
    assert a.run("cat /etc/machine-id").strip() == b.run("cat /etc/machine-id").strip() == cloned
    assert 'ID="rocky"' in b.run("cat /etc/os-release").splitlines()
    assert 'PRETTY_NAME="Alpine Linux v3.20"' in alpine.run("cat /etc/os-release")


def test_invalid_profiles_are_rejected() -> None:
    with pytest.raises(ValueError, match="RFC 1123"):
        HostProfile(name="GPU_1")
    with pytest.raises(ValueError, match="gpu profile"):
        HostProfile(name="x", gpu="h200")


# -- GPU stand-ins ------------------------------------------------------------------------------


def test_nvidia_smi_differs_per_host_and_calls_are_recorded(shared_ssh_hosts: SharedSshHosts) -> None:
    shared_ssh_hosts.reset_stand_ins()
    gpu1, gpu2, cp1 = shared_ssh_hosts.gpu1, shared_ssh_hosts.gpu2, shared_ssh_hosts.cp1

    h100 = gpu1.run("nvidia-smi -L").splitlines()
    assert len(h100) == 8 and all(" NVIDIA H100 80GB HBM3 (UUID: GPU-" in line for line in h100)
    a100 = gpu2.run("nvidia-smi -L").splitlines()
    assert a100[0].startswith("GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-")
    assert [line.split(":")[0].strip() for line in a100[1:]] == [
        "MIG 3g.20gb     Device  0",
        "MIG 3g.20gb     Device  1",
    ]
    assert cp1.ssh("command -v nvidia-smi").returncode == 1  # no GPU: not on PATH at all

    assert gpu1.run("command -v nvidia-smi").strip() == str(gpu1.bin_dir / "nvidia-smi")
    calls = gpu1.calls("nvidia-smi")
    assert [c["argv"] for c in calls] == [["nvidia-smi", "-L"]]
    assert calls[0]["stdin"] is None and calls[0]["time"] > 0 and calls[0]["cwd"]
    assert gpu2.calls("nvidia-smi")[0]["argv"] == ["nvidia-smi", "-L"]
    assert cp1.calls("nvidia-smi") == []


def test_nvidia_smi_table_and_csv_queries(shared_ssh_hosts: SharedSshHosts) -> None:
    gpu1, gpu2 = shared_ssh_hosts.gpu1, shared_ssh_hosts.gpu2
    table = gpu1.run("nvidia-smi")
    assert "Driver Version: 570.133.20     CUDA Version: 12.8" in table
    assert table.count("NVIDIA H100 80GB HBM3") == 8
    assert "MIG devices:" in gpu2.run("nvidia-smi")

    rows = gpu1.run(f"nvidia-smi --query-gpu={CSV_QUERY} --format=csv,noheader").splitlines()
    assert len(rows) == 8 and all(H100_CSV_LINE.match(row) for row in rows), rows
    with_header = gpu1.run(f"nvidia-smi --query-gpu={CSV_QUERY} --format=csv").splitlines()
    assert with_header[0] == "index, name, uuid, memory.total [MiB], driver_version, mig.mode.current"
    nounits = gpu2.run(f"nvidia-smi --query-gpu={CSV_QUERY} --format=csv,noheader,nounits").strip()
    assert re.fullmatch(r"0, NVIDIA A100-SXM4-40GB, GPU-[0-9a-f-]{36}, 40960, 535\.230\.02, Enabled", nounits)
    picked = gpu1.run("nvidia-smi -i 3 --query-gpu=pci.bus_id,count,name --format=csv,noheader").strip()
    assert picked == "00000000:5D:00.0, 8, NVIDIA H100 80GB HBM3"

    unknown = gpu1.ssh("nvidia-smi --query-gpu=name,fan.bogus --format=csv")
    assert unknown.returncode == 2
    assert unknown.stdout.startswith('Field "fan.bogus" is not a valid field to query.')


def test_gpu_uuids_are_unique_per_host(ssh_host_farm: HostFarm) -> None:
    first, second = ssh_host_farm.add_many(
        [HostProfile(name="g1", gpu="h100x8"), HostProfile(name="g2", gpu="h100x8")]
    )
    query = "nvidia-smi --query-gpu=uuid --format=csv,noheader"
    uuids = first.run(query).split() + second.run(query).split()
    assert len(set(uuids)) == 16


def test_lspci_stand_in(shared_ssh_hosts: SharedSshHosts) -> None:
    gpu1, cp1 = shared_ssh_hosts.gpu1, shared_ssh_hosts.cp1
    nvidia = gpu1.run("lspci -d 10de:").splitlines()
    assert len(nvidia) == 12  # 8 GPUs + 4 NVSwitch bridges, as on an HGX H100 board
    assert "18:00.0 3D controller: NVIDIA Corporation GH100 [H100 SXM5 80GB] (rev a1)" in nvidia
    gpus = gpu1.run("lspci -nn -d 10de::0302").splitlines()
    assert len(gpus) == 8
    assert (
        gpus[0]
        == "18:00.0 3D controller [0302]: NVIDIA Corporation GH100 [H100 SXM5 80GB] [10de:2330] (rev a1)"
    )
    assert gpu1.run("lspci -n -D -d 10de::").splitlines()[0] == "0000:05:00.0 0680: 10de:22a3 (rev a1)"
    assert cp1.run("lspci -d 10de:") == ""
    assert "VGA compatible controller: Matrox" in cp1.run("lspci")
    assert gpu1.ssh("lspci -vv").returncode == 2  # real option, not modelled: loud failure


def test_driver_missing_and_no_gpu_profiles(ssh_host_farm: HostFarm) -> None:
    broken, plain = ssh_host_farm.add_many(
        [HostProfile(name="fresh-gpu", gpu="driver-missing"), HostProfile(name="cpu-only", gpu="none")]
    )
    for args in ("", "-L", f"--query-gpu={CSV_QUERY} --format=csv,noheader"):
        result = broken.ssh(f"nvidia-smi {args}")
        assert result.returncode == 9
        assert result.stdout.startswith(
            "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
            "Make sure that the latest NVIDIA driver is installed and running."
        )
    assert len(broken.run("lspci -d 10de::0302").splitlines()) == 8  # GPUs are on the bus
    assert len(broken.calls("nvidia-smi")) == 3
    missing = plain.ssh("nvidia-smi -L")
    assert missing.returncode == 127 and "not found" in missing.stderr


# -- sudo -----------------------------------------------------------------------------------------


@pytest.mark.skipif(not sudo_installed(), reason="sudo is not installed (apt-get install -y sudo)")
def test_sudo_works_or_fails_as_profiled(ssh_host_farm: HostFarm) -> None:
    good, bad = ssh_host_farm.add_many(
        [HostProfile(name="sudo-ok", gpu="h100x8"), HostProfile(name="sudo-broken", sudo_works=False)]
    )
    assert good.ssh("sudo -n true").returncode == 0
    refused = bad.ssh("sudo -n true")
    assert refused.returncode == 1
    assert "not in the sudoers file" in refused.stderr
    # sudo's secure_path keeps the host's stand-ins first, so become-style calls hit them too
    assert good.run("sudo -n nvidia-smi -L").startswith("GPU 0: NVIDIA H100 80GB HBM3")
    assert good.calls("nvidia-smi")[-1]["sudo"] is True


# -- kubectl / helm stand-ins ---------------------------------------------------------------------


def test_kube_tools_record_and_answer_from_state(shared_ssh_hosts: SharedSshHosts) -> None:
    cp1 = shared_ssh_hosts.cp1
    cp1.reset_stand_ins()
    kubectl, helm = cp1.kube_bin_dir / "kubectl", cp1.kube_bin_dir / "helm"
    assert str(cp1.kube_bin_dir) not in cp1.run("echo $PATH")  # bin_dir is not on PATH

    assert cp1.run(f"{kubectl} get nodes") == ""
    cp1.set_kube_response("kubectl", "get nodes", stdout="cp1   Ready   control-plane\n")
    cp1.set_kube_response("helm", "status gpu-operator", stderr="Error: release: not found\n", rc=1)
    assert cp1.run(f"{kubectl} get nodes -o wide") == "cp1   Ready   control-plane\n"
    failed = cp1.ssh(f"{helm} status gpu-operator -n gpu-operator")
    assert (failed.returncode, failed.stderr) == (1, "Error: release: not found\n")

    applied = cp1.ssh(f"{kubectl} apply -f -", input="kind: Namespace\n")
    assert applied.returncode == 0
    calls = cp1.calls("kubectl")
    assert [c["argv"] for c in calls] == [
        ["kubectl", "get", "nodes"],
        ["kubectl", "get", "nodes", "-o", "wide"],
        ["kubectl", "apply", "-f", "-"],
    ]
    assert calls[-1]["stdin"] == "kind: Namespace\n"
    assert cp1.calls("helm")[0]["argv"] == ["helm", "status", "gpu-operator", "-n", "gpu-operator"]


# -- lifecycle, bastion, unreachable, cleanup -----------------------------------------------------


def test_stop_makes_host_unreachable_and_start_brings_it_back(
    ssh_host_farm: HostFarm, tmp_path: Path
) -> None:
    host = ssh_host_farm.add(HostProfile(name="flaky"))
    session = subprocess.Popen(host.ssh_argv("sleep 60"), stdin=subprocess.DEVNULL)
    first_pid, endpoint = host.pid, host.endpoint
    host.run("true")

    host.stop()
    assert host.pid is None and not host.running
    assert session.wait(timeout=10) != 0  # open sessions die with the machine
    assert not accepts_connections(endpoint)
    assert host.ssh("true").returncode == 255

    host.start()
    assert host.endpoint == endpoint and host.pid not in (None, first_pid)
    result = strict_ssh(host, ssh_host_farm, tmp_path, "hostname")  # same host key
    assert result.stdout.strip() == "flaky", result.stderr


def test_bastion_jump(shared_ssh_hosts: SharedSshHosts) -> None:
    bastion, wk1, cp1 = shared_ssh_hosts.bastion, shared_ssh_hosts.wk1, shared_ssh_hosts.cp1
    config = str(shared_ssh_hosts.farm.ssh_config_path)
    target = ["-p", str(wk1.port), f"root@{wk1.address}", "hostname"]
    via_bastion = ["ssh", "-F", config, "-J", f"root@{bastion.address}:{bastion.port}", *target]
    jumped = subprocess.run(via_bastion, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert jumped.stdout.strip() == "wk1", jumped.stderr
    via_node = ["ssh", "-F", config, "-J", f"root@{cp1.address}:{cp1.port}", *target]
    refused = subprocess.run(via_node, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert refused.returncode == 255  # ordinary hosts do not forward TCP


def test_unreachable_address(unreachable_address: Endpoint, ssh_host_farm: HostFarm) -> None:
    assert unreachable_address.address.startswith("127.")
    assert not accepts_connections(unreachable_address)
    argv = ["ssh", "-F", str(ssh_host_farm.ssh_config_path), "-p", str(unreachable_address.port)]
    result = subprocess.run(
        [*argv, f"root@{unreachable_address.address}", "true"], capture_output=True, text=True
    )
    assert result.returncode == 255 and "Connection refused" in result.stderr


def test_port_22_taken_falls_back_to_a_free_port(
    ssh_host_farm: HostFarm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lease = lease_address("function")
    monkeypatch.setattr("tests.harness.farm.lease_address", lambda pool: lease)  # the farm gets this one
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if can_bind(lease.address, 22):  # (a system sshd on 0.0.0.0:22 already squats it)
            squatter.bind((lease.address, 22))
            squatter.listen()
        host = ssh_host_farm.add(HostProfile(name="moved"))
    assert (host.address, host.port != 22) == (lease.address, True)
    assert ssh_host_farm.known_hosts([host]).startswith(f"[{host.address}]:{host.port} ssh-ed25519 ")
    assert strict_ssh(host, ssh_host_farm, tmp_path, "hostname").stdout.strip() == "moved"


def test_close_leaves_no_sshd_processes() -> None:
    require_real_sshd_hosts()
    farm = HostFarm()
    try:
        hosts = farm.add_many([HostProfile(name=f"tmp{i}") for i in range(3)])
        session = subprocess.Popen(hosts[0].ssh_argv("sleep 60"), stdin=subprocess.DEVNULL)
        hosts[0].run("true")
        namespaces = {h._namespace for h in hosts if h._namespace}
        pids = {h.pid for h in hosts}
        assert len(namespaces) == 3 and len(pids_in_namespaces(namespaces)) >= 4  # 3 listeners + session
    finally:
        farm.close()
    assert pids_in_namespaces(namespaces) == []
    assert not any(is_alive(pid) for pid in pids if pid is not None)
    assert session.wait(timeout=10) != 0
    assert not farm.dir.exists()
    assert not any(accepts_connections(h.endpoint) for h in hosts)


def test_skip_reasons_are_clear(monkeypatch: pytest.MonkeyPatch) -> None:
    check = support.missing_requirements.__wrapped__  # uncached
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert check() == "not running as root (needed for mount/UTS namespaces, port 22 and sudo)"
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(support, "sshd_path", lambda: None)
    assert str(check()).startswith("sshd not found; apt-get install -y openssh-server")
