"""`deepctl preflight` against real sshd test hosts on loopback (tests/harness).

One farm per module: a control plane, an 8x H100 host, two workers sharing a machine-id,
a host where sudo fails, an A100 with MIG on, a GPU host whose driver is missing, a
bastion, and one address where nothing listens. GPUs are the harness's recording
``nvidia-smi``/``lspci`` stand-ins; everything else (sshd, sudo, sh, ss, ip) is real.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from deepctl.preflight import PreflightReport, load_facts, run_preflight
from deepctl.state import StateDir
from deepctl.workspace import open_workspace
from tests.harness import Endpoint, HostFarm, HostProfile, TestHost, unreachable_endpoint
from tests.harness.fixtures import require_real_sshd_hosts

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
DEEPCTL = REPO / ".venv" / "bin" / "deepctl"
SHARED_MACHINE_ID = "5eed" * 8
PROFILES = (
    HostProfile(name="cp1", os="ubuntu-24.04"),
    HostProfile(name="gpu1", os="ubuntu-24.04", gpu="h100x8"),
    HostProfile(name="wk1", os="debian-12", machine_id=SHARED_MACHINE_ID),
    HostProfile(name="wk2", os="rocky-9", machine_id=SHARED_MACHINE_ID),
    HostProfile(name="nosudo", os="ubuntu-22.04", sudo_works=False),
    HostProfile(name="mig1", os="ubuntu-22.04", gpu="a100-mig"),
    HostProfile(name="nodrv", os="ubuntu-24.04", gpu="driver-missing"),
)
GPU_HOSTS = {"gpu1", "mig1", "nodrv"}


class Farm:
    """The module's hosts, and helpers to write specs that point at them."""

    def __init__(self, farm: HostFarm, down: Endpoint) -> None:
        self.farm = farm
        self.down = down
        self.bastion = farm["bastion"]

    def __getitem__(self, name: str) -> TestHost:
        return self.farm[name]

    def entry(self, name: str, **extra: Any) -> dict[str, Any]:
        if name == "down":
            return {"name": "down", "address": self.down.address, "roles": ["worker"],
                    "ssh": {"port": self.down.port}, **extra}
        host = self.farm[name]
        roles = ["control-plane", "etcd", "worker"] if name == "cp1" else ["worker"]
        return {"name": name, "address": host.address, "roles": roles,
                "gpu": name in GPU_HOSTS, "ssh": {"port": host.port}, **extra}

    def spec(self, directory: Path, hosts: list[dict[str, Any]], **spec: Any) -> Path:
        ssh = {"user": "root", "identityFile": str(self.farm.client_key), **spec.pop("ssh", {})}
        data = {"apiVersion": "deepctl/v1alpha1", "kind": "Cluster",
                "metadata": {"name": "lab"}, "spec": {"ssh": ssh, "hosts": hosts, **spec}}
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "cluster.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return path

    def known_state(self, directory: Path) -> Path:
        """A state dir whose known_hosts already holds every farm host (OpenSSH format)."""
        state = directory / "state"
        state.mkdir(parents=True, exist_ok=True)
        (state / "known_hosts").write_text(self.farm.known_hosts(), encoding="ascii")
        return state


@pytest.fixture(scope="module")
def hosts() -> Iterator[Farm]:
    require_real_sshd_hosts()
    with HostFarm(pool="function") as farm:
        farm.add_many([*PROFILES, HostProfile(name="bastion", tcp_forwarding=True)])
        yield Farm(farm, unreachable_endpoint())


ALL = ["cp1", "gpu1", "wk1", "wk2", "nosudo", "mig1", "nodrv", "down"]


def preflight(spec: Path, state: Path, **kwargs: Any) -> PreflightReport:
    return run_preflight(open_workspace(spec, state), timeout=5, **kwargs)


def by_check(report: PreflightReport, host: str) -> dict[str, list[tuple[str, str]]]:
    result = report.host(host)
    assert result is not None
    out: dict[str, list[tuple[str, str]]] = {}
    for f in result.findings:
        out.setdefault(f.check, []).append((f.status, f.message))
    return out


def fingerprint_of(host: TestHost, tmp: Path) -> str:
    """The host key's fingerprint as OpenSSH prints it (independent of deepctl)."""
    pub = tmp / f"{host.name}.pub"
    pub.write_text(host.host_key_public + "\n", encoding="ascii")
    out = subprocess.run(["ssh-keygen", "-lf", str(pub)], capture_output=True, text=True, check=True)
    return out.stdout.split()[1]


# -- the whole farm through the CLI, as a user runs it -----------------------------------------


@pytest.fixture(scope="module")
def cli_run(hosts: Farm, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("preflight-cli")
    spec = hosts.spec(work, [hosts.entry(n) for n in ALL])
    state = work / "state"
    argv = [str(DEEPCTL), "preflight", str(spec), "--state-dir", str(state), "--json",
            "--accept-new-hosts", "--timeout", "5"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=work)
    return {"proc": proc, "report": json.loads(proc.stdout), "spec": spec, "state": state}


def findings(cli_run: dict[str, Any], host: str) -> dict[str, list[tuple[str, str]]]:
    entry = next(h for h in cli_run["report"]["hosts"] if h["name"] == host)
    out: dict[str, list[tuple[str, str]]] = {}
    for f in entry["findings"]:
        out.setdefault(f["check"], []).append((f["status"], f["message"]))
    return out


def test_cli_exits_3_on_errors_with_a_json_report(cli_run: dict[str, Any]) -> None:
    proc, report = cli_run["proc"], cli_run["report"]
    assert proc.returncode == 3, proc.stderr
    assert (report["status"], report["exitCode"]) == ("error", 3)
    statuses = {h["name"]: h["status"] for h in report["hosts"]}
    assert statuses == {"cp1": "ok", "gpu1": "ok", "wk1": "error", "wk2": "error",
                        "nosudo": "error", "mig1": "warning", "nodrv": "error", "down": "error"}


def test_host_without_gpus_is_all_ok(cli_run: dict[str, Any]) -> None:
    found = findings(cli_run, "cp1")
    assert all(status == "ok" for items in found.values() for status, _ in items), found
    assert not any(check.startswith("gpu.") for check in found)
    assert found["os.supported"] == [("ok", "Ubuntu 24.04.2 LTS: supported by Kubespray")]
    assert found["ssh.sudo"] == [("ok", "`sudo -n true` works for root")]
    assert found["ports.free"] == [("ok", "ports 2379, 2380, 6443, 10250, 10257, 10259 are free")]
    assert found["network.peer"][0][0] == "ok"
    assert found["identity.hostname"] == [("ok", "hostname cp1")]


def test_h100x8_host(cli_run: dict[str, Any], hosts: Farm) -> None:
    found = findings(cli_run, "gpu1")
    assert found["gpu.present"] == [("ok", "8x NVIDIA H100 80GB HBM3")]
    assert found["gpu.driver"] == [("ok", "driver 570.133.20 (preinstalled)")]
    assert found["gpu.mig"] == [("ok", "MIG off (strategy none)")]
    query = "--query-gpu=index,name,uuid,memory.total,driver_version,mig.mode.current"
    argvs = [c["argv"] for c in hosts["gpu1"].calls("nvidia-smi")]
    assert ["nvidia-smi", query, "--format=csv,noheader"] in argvs
    assert ["lspci", "-nn", "-d", "10de:"] in [c["argv"] for c in hosts["gpu1"].calls("lspci")]


def test_duplicated_machine_id(cli_run: dict[str, Any]) -> None:
    assert findings(cli_run, "wk1")["identity.machine-id"] == [
        ("error", f"machine-id {SHARED_MACHINE_ID} is also on wk2")]
    assert findings(cli_run, "wk2")["identity.machine-id"] == [
        ("error", f"machine-id {SHARED_MACHINE_ID} is also on wk1")]
    assert findings(cli_run, "cp1")["identity.machine-id"] == [("ok", "machine-id is unique")]
    assert findings(cli_run, "wk2")["os.supported"] == [
        ("ok", "Rocky Linux 9.5 (Blue Onyx): supported by Kubespray")]


def test_sudo_failing(cli_run: dict[str, Any]) -> None:
    assert findings(cli_run, "nosudo")["ssh.sudo"] == [
        ("error", "`sudo -n true` failed for root: root is not in the sudoers file.")]


def test_unreachable_host_does_not_hide_the_others(cli_run: dict[str, Any]) -> None:
    down = next(h for h in cli_run["report"]["hosts"] if h["name"] == "down")
    assert [(f["check"], f["status"]) for f in down["findings"]] == [("ssh.connect", "error")]
    assert "Connection refused" in down["findings"][0]["message"]
    assert down["findings"][0]["hint"]


def test_mig_enabled_with_strategy_none_and_missing_driver(cli_run: dict[str, Any]) -> None:
    assert findings(cli_run, "mig1")["gpu.mig"][0][0] == "warning"
    assert findings(cli_run, "mig1")["gpu.present"] == [("ok", "1x NVIDIA A100-SXM4-40GB")]
    assert findings(cli_run, "nodrv")["gpu.present"] == [("ok", "8 NVIDIA GPU(s) on the PCI bus")]
    status, message = findings(cli_run, "nodrv")["gpu.driver"][0]
    assert status == "error"
    assert message.startswith("no working NVIDIA driver, and addons.gpu.driver.install is false "
                              "(nvidia-smi exits 9: NVIDIA-SMI has failed")


def test_facts_are_saved_private(cli_run: dict[str, Any], hosts: Farm) -> None:
    facts_dir = cli_run["state"] / "facts"
    assert stat.S_IMODE(facts_dir.stat().st_mode) == 0o700
    assert sorted(p.name for p in facts_dir.iterdir()) == sorted(
        f"{n}.json" for n in ALL if n != "down")
    saved = json.loads((facts_dir / "gpu1.json").read_text())
    assert stat.S_IMODE((facts_dir / "gpu1.json").stat().st_mode) == 0o600
    assert (saved["host"], saved["hostname"]) == ("gpu1", "gpu1")
    assert saved["machine_id"] == hosts["gpu1"].machine_id
    assert len(saved["gpus"]) == 8
    loaded = load_facts(StateDir(cli_run["state"]), "gpu1")
    assert loaded is not None and len(loaded.gpus) == 8 and loaded.gpus[0].mig_mode == "Disabled"


def test_accepted_keys_work_for_openssh(cli_run: dict[str, Any], hosts: Farm, tmp_path: Path) -> None:
    known = cli_run["state"] / "known_hosts"
    assert stat.S_IMODE(known.stat().st_mode) == 0o600
    new = {k["host"]: k["fingerprint"] for k in cli_run["report"]["newHostKeys"]}
    assert set(new) == set(ALL) - {"down"}
    assert len(known.read_text().splitlines()) == len(new)  # concurrent writes lose nothing
    assert new["gpu1"] == fingerprint_of(hosts["gpu1"], tmp_path)
    assert "trust on first use" in findings(cli_run, "gpu1")["ssh.connect"][0][1]
    host = hosts["wk1"]
    argv = ["ssh", "-F", "/dev/null", "-i", str(hosts.farm.client_key), "-o", "IdentitiesOnly=yes",
            "-o", f"UserKnownHostsFile={known}", "-o", "StrictHostKeyChecking=yes",
            "-o", "BatchMode=yes", "-p", str(host.port), f"root@{host.address}", "hostname"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert (done.returncode, done.stdout.strip()) == (0, "wk1"), done.stderr


def test_human_table_on_a_second_run(cli_run: dict[str, Any]) -> None:
    argv = [str(DEEPCTL), "preflight", str(cli_run["spec"]), "--state-dir", str(cli_run["state"]),
            "--timeout", "5"]
    env = {**os.environ, "COLUMNS": "200"}
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 3
    assert "Preflight of cluster lab" in proc.stdout
    assert "trust on first use" not in proc.stdout
    assert "fix: give root passwordless sudo" in proc.stdout
    assert "error [ssh] `sudo -n true` failed for root" in proc.stdout
    assert "8 host(s) checked" in proc.stdout
    assert "error: preflight found errors on 5 host(s): wk1, wk2, nosudo, nodrv, down" in proc.stderr


# -- host keys -------------------------------------------------------------------------------


def test_unknown_host_key_is_an_error_with_its_fingerprint(hosts: Farm, tmp_path: Path) -> None:
    spec = hosts.spec(tmp_path, [hosts.entry("cp1"), hosts.entry("wk1")])
    report = preflight(spec, tmp_path / "state")
    for name in ("cp1", "wk1"):
        result = report.host(name)
        assert result is not None
        [finding] = result.findings
        assert (finding.check, finding.status) == ("ssh.host-key", "error")
        assert fingerprint_of(hosts[name], tmp_path) in finding.message
        assert finding.hint is not None and "--accept-new-hosts" in finding.hint
    assert not (tmp_path / "state" / "known_hosts").exists()
    assert not (tmp_path / "state" / "facts").exists()


def test_changed_host_key_is_an_error_even_when_accepting(hosts: Farm, tmp_path: Path) -> None:
    cp1, gpu1 = hosts["cp1"], hosts["gpu1"]
    state = tmp_path / "state"
    state.mkdir()
    name = cp1.address if cp1.port == 22 else f"[{cp1.address}]:{cp1.port}"
    forged = f"{name} {gpu1.host_key_public}\n"
    (state / "known_hosts").write_text(forged)
    report = preflight(hosts.spec(tmp_path, [hosts.entry("cp1")]), state, accept_new_hosts=True)
    [finding] = report.hosts[0].findings
    assert (finding.check, finding.status) == ("ssh.host-key", "error")
    assert "has CHANGED" in finding.message
    assert fingerprint_of(cp1, tmp_path) in finding.message
    assert (state / "known_hosts").read_text() == forged


# -- spec variations (library calls; keys known from the farm) --------------------------------


def test_gpu_spec_mismatches(hosts: Farm, tmp_path: Path) -> None:
    spec = hosts.spec(
        tmp_path,
        [hosts.entry("cp1"), hosts.entry("gpu1", gpu=False), hosts.entry("mig1"),
         hosts.entry("nodrv")],
        addons={"gpu": {"driver": {"install": True}, "mig": {"strategy": "single"}}},
    )
    report = preflight(spec, hosts.known_state(tmp_path))
    gpu1, mig1, nodrv = (by_check(report, n) for n in ("gpu1", "mig1", "nodrv"))
    assert gpu1["gpu.unexpected"] == [
        ("warning", "8x NVIDIA H100 80GB HBM3 found, but the host is gpu: false")]
    assert mig1["gpu.driver"][0][0] == "error"
    assert "addons.gpu.driver.install is true" in mig1["gpu.driver"][0][1]
    assert mig1["gpu.mig"] == [("ok", "MIG enabled on GPU 0 (strategy single)")]
    assert nodrv["gpu.driver"] == [("ok", "no driver on the host: the GPU Operator installs it")]


def test_busy_port_and_unreachable_peer(hosts: Farm, tmp_path: Path) -> None:
    listener = socket.socket()
    try:
        listener.bind(("127.0.0.1", 6443))
    except OSError:
        pytest.skip("127.0.0.1:6443 is taken on this machine")
    listener.listen()
    try:
        spec = hosts.spec(tmp_path, [hosts.entry("cp1"),
                                     hosts.entry("wk1", internalAddress="127.0.0.251")])
        report = preflight(spec, hosts.known_state(tmp_path))
    finally:
        listener.close()
    cp1, wk1 = by_check(report, "cp1"), by_check(report, "wk1")
    assert cp1["ports.free"] == [("error", "port 6443 is in use")]
    assert wk1["ports.free"] == [("ok", "port 10250 is free")]
    port = hosts["wk1"].port
    assert cp1["network.peer"] == [
        ("error", f"cannot open a TCP connection to peer 127.0.0.251:{port} within 3 s")]
    assert wk1["network.peer"] == [("ok", f"reaches {hosts['cp1'].address}:{hosts['cp1'].port}")]


def test_clock_skew(hosts: Farm, tmp_path: Path) -> None:
    fake_date = hosts["gpu1"].bin_dir / "date"  # a stand-in clock, 2 minutes fast
    fake_date.write_text(f"#!/bin/sh\nexec {sys.executable} -c "
                         "'import time; print(int(time.time()) + 120)'\n")
    fake_date.chmod(0o755)
    try:
        spec = hosts.spec(tmp_path, [hosts.entry(n) for n in ("cp1", "wk1", "gpu1")])
        report = preflight(spec, hosts.known_state(tmp_path))
    finally:
        fake_date.unlink()
    status, message = by_check(report, "gpu1")["clock.skew"][0]
    assert status == "error"
    assert message.startswith(("clock +119 s", "clock +120 s", "clock +121 s"))
    assert by_check(report, "cp1")["clock.skew"][0][0] == "ok"


# -- bastion ----------------------------------------------------------------------------------


def test_through_a_bastion(hosts: Farm, tmp_path: Path) -> None:
    bastion = hosts.bastion
    spec = hosts.spec(tmp_path, [hosts.entry("cp1"), hosts.entry("gpu1")],
                      ssh={"bastion": {"address": bastion.address, "port": bastion.port}})
    report = preflight(spec, tmp_path / "state", accept_new_hosts=True)
    assert not report.has_errors, report.to_json()
    assert [k["host"] for k in report.new_host_keys] == ["bastion", "cp1", "gpu1"]
    known = (tmp_path / "state" / "known_hosts").read_text()
    assert bastion.host_key_public in known


def test_bastion_must_allow_forwarding(hosts: Farm, tmp_path: Path) -> None:
    wk2 = hosts["wk2"]  # its sshd has AllowTcpForwarding no
    spec = hosts.spec(tmp_path, [hosts.entry("cp1")],
                      ssh={"bastion": {"address": wk2.address, "port": wk2.port}})
    report = preflight(spec, hosts.known_state(tmp_path))
    [finding] = report.hosts[0].findings
    assert (finding.check, finding.status) == ("ssh.connect", "error")
    assert finding.message.startswith("cp1: the bastion could not open a connection to")
    assert finding.hint is not None and "AllowTcpForwarding" in finding.hint


def test_bastion_down_fails_every_host(hosts: Farm, tmp_path: Path) -> None:
    spec = hosts.spec(tmp_path, [hosts.entry("cp1"), hosts.entry("wk1")],
                      ssh={"bastion": {"address": hosts.down.address, "port": hosts.down.port}})
    report = preflight(spec, hosts.known_state(tmp_path))
    for result in report.hosts:
        [finding] = result.findings
        assert finding.message.startswith("via the bastion: root@127.0.0.250")
        assert "Connection refused" in finding.message


def test_a_host_without_systemd_fails_as_kubespray_would(hosts: Farm, tmp_path: Path) -> None:
    """Kubespray stops at "Stop if non systemd OS type": preflight says so first. The harness
    binds a stand-in ``systemd`` over /proc/1/comm; rewritten in place, the host sees the new
    name at once (the name of this machine's own PID 1 in CI containers, for instance)."""
    comm = hosts["wk1"].dir / "etc" / "standin-pid1-comm"
    comm.write_text("process_api\n", encoding="ascii")
    try:
        assert hosts["wk1"].run("cat /proc/1/comm") == "process_api\n"
        spec = hosts.spec(tmp_path, [hosts.entry("cp1"), hosts.entry("wk1")])
        report = preflight(spec, hosts.known_state(tmp_path))
    finally:
        comm.write_text("systemd\n", encoding="ascii")
    assert by_check(report, "wk1")["os.systemd"] == [(
        "error", "the service manager is 'process_api', not systemd (PID 1 is 'process_api'); "
        "Kubespray stops at 'Stop if non systemd OS type' (kubernetes/preinstall)")]
    cp1 = by_check(report, "cp1")
    assert cp1["os.systemd"] == [("ok", "systemd manages services")]
    assert cp1["os.cgroups"][0][0] == "ok"
    assert [status for status, _ in cp1["resources.memory"]] == ["ok", "ok"]
