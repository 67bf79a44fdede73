"""Preflight's pure parts: the facts-script parser and every check, by equality."""

from __future__ import annotations

from typing import Any

import pytest

from deepctl.clusterspec.models import Cluster
from deepctl.preflight import checks, gpu, os_support
from deepctl.preflight.cluster_checks import check_clock, check_unique, evaluate
from deepctl.preflight.model import Finding, Gpu, HostFacts, HostResult, PreflightReport
from deepctl.preflight.script import build_script, parse_gpus, parse_output

H100_CSV = "\n".join(
    f"{i}, NVIDIA H100 80GB HBM3, GPU-{i}, 81559 MiB, 570.133.20, Disabled" for i in range(8)
)


def make_cluster(*hosts: dict[str, Any], **spec: Any) -> Cluster:
    return Cluster.model_validate({
        "metadata": {"name": "lab"},
        "spec": {"hosts": list(hosts), **spec},
    })


CP = {"name": "cp1", "address": "10.0.0.11", "roles": ["control-plane", "etcd"]}
WK = {"name": "wk1", "address": "10.0.0.21", "roles": ["worker"]}
GPU = {"name": "gpu1", "address": "10.0.0.31", "roles": ["worker"], "gpu": True}


def good_facts(**over: Any) -> HostFacts:
    base: dict[str, Any] = dict(
        hostname="cp1", machine_id="a" * 32, os_release={"ID": "ubuntu", "VERSION_ID": "24.04",
                                                         "PRETTY_NAME": "Ubuntu 24.04.2 LTS"},
        arch="x86_64", kernel="6.8.0", cpus=8, mem_mb=32000, swap_mb=0,
        disk_free_mb={"/": 100_000, "/var": 100_000}, remote_time=1000, local_time=1000.0,
        addresses=["10.0.0.11"], internal_address="10.0.0.11", sudo_rc=0,
        service_mgr="systemd", init_probe={"pid1": "systemd", "systemctl": ""},
        cgroup_fs="cgroup2fs", nameservers=["10.0.0.1"],
    )
    base.update(over)
    return HostFacts(**base)


def statuses(findings: list[Finding]) -> list[tuple[str, str]]:
    return [(f.check, f.status) for f in findings]


# -- parser --------------------------------------------------------------------------------


def test_parse_output_reads_every_section() -> None:
    text = (
        "\n@@hostname\ngpu1\n@@machine_id\nabc\n@@product_uuid\nABCD-1\n@@os_release\n"
        'ID=ubuntu\nVERSION_ID="24.04"\n@@arch\nx86_64\n@@kernel\n6.8.0\n@@nproc\n16\n'
        "@@meminfo\nMemTotal:       65536000 kB\nSwapTotal:       2097152 kB\n"
        "@@disk\n/ /dev/sda1 100 50 31457280 1% /\n/var /dev/sda2 100 50 4194304 1% /var\n"
        "@@date\n1700000000\n@@listen\n0.0.0.0:22\n[::]:6443\n127.0.0.1:10250\n"
        "@@addrs\n127.0.0.1/8\n10.0.0.31/24\n@@route\nlocal 10.0.0.31 dev lo\n"
        f"@@nvidia_smi\n{H100_CSV}\n\n@rc 0\n@@lspci\n18:00.0 3D controller [0302]: NVIDIA\n"
        "@@runtimes\ncontainerd active\n@@sudo\n\n@rc 0\n@@peer\n\n@rc 1\n@@end\n"
    )
    facts = parse_output(text, internal_address="10.0.0.31", peer=("10.0.0.11", 22),
                         local_time=1700000001.5)
    assert facts.hostname == "gpu1"
    assert facts.product_uuid == "abcd-1"
    assert facts.os_release == {"ID": "ubuntu", "VERSION_ID": "24.04"}
    assert (facts.cpus, facts.mem_mb, facts.swap_mb) == (16, 64000, 2048)
    assert facts.disk_free_mb == {"/": 30720, "/var": 4096}
    assert facts.listening_ports == [22, 6443, 10250]
    assert facts.addresses == ["127.0.0.1", "10.0.0.31"]
    assert facts.internal_address_local is True
    assert (facts.nvidia_smi_rc, len(facts.gpus)) == (0, 8)
    assert facts.gpus[0] == Gpu(0, "NVIDIA H100 80GB HBM3", "GPU-0", 81559, "570.133.20", "Disabled")
    assert facts.runtimes == {"containerd": "active"}
    assert (facts.sudo_rc, facts.peer, facts.peer_reachable) == (0, "10.0.0.11:22", False)
    assert facts.clock_offset == pytest.approx(-1.5)


def test_parse_output_nvidia_smi_absent_and_failing() -> None:
    absent = parse_output("@@nvidia_smi\n@rc absent\n@@sudo\n@rc skipped\n@@end\n",
                          internal_address="", peer=None, local_time=None)
    assert (absent.nvidia_smi_rc, absent.gpus, absent.sudo_rc) == (None, [], None)
    failing = parse_output("@@nvidia_smi\nNVIDIA-SMI has failed\n\n@rc 9\n@@end\n",
                           internal_address="", peer=None, local_time=None)
    assert (failing.nvidia_smi_rc, failing.nvidia_smi_output) == (9, "NVIDIA-SMI has failed")


def test_parse_listen_reads_proc_net_tcp_hex() -> None:
    facts = parse_output("@@listen\nhex:00000000:1A0B\nhex:0100007F:0016\n@@end\n",
                         internal_address="", peer=None, local_time=None)
    assert facts.listening_ports == [22, 6667]


def test_build_script_quotes_values_and_probes_peer() -> None:
    text = build_script("10.0.0.1", ("10.0.0.2", 2222), become=False)
    assert text.startswith("INTERNAL=10.0.0.1\nPEER=10.0.0.2\nPEER_PORT=2222\nBECOME=0\n")
    assert "--query-gpu=index,name,uuid,memory.total,driver_version,mig.mode.current" in text
    assert "lspci -nn -d 10de:" in text
    assert build_script("x'; rm -rf /", None, True).startswith("INTERNAL='x'\"'\"'; rm -rf /'\n")


def test_parse_gpus_ignores_error_text() -> None:
    assert parse_gpus("No devices were found") == []


# -- OS, arch, resources ---------------------------------------------------------------------


@pytest.mark.parametrize(("os_release", "expected"), [
    ({"ID": "ubuntu", "VERSION_ID": "24.04"}, "supported"),
    ({"ID": "ubuntu", "VERSION_ID": "22.04"}, "supported"),
    ({"ID": "ubuntu", "VERSION_ID": "20.04"}, "untested-version"),
    ({"ID": "debian", "VERSION_ID": "12"}, "supported"),
    ({"ID": "rocky", "VERSION_ID": "9.5"}, "supported"),
    ({"ID": "almalinux", "VERSION_ID": "10.0"}, "supported"),
    ({"ID": "rhel", "VERSION_ID": "8.10"}, "untested-version"),
    ({"ID": "amzn", "VERSION_ID": "2023"}, "experimental"),
    ({"ID": "flatcar", "VERSION_ID": "4081.2.0"}, "supported"),
    ({"ID": "alpine", "VERSION_ID": "3.20.3"}, "rejected"),
    ({}, "unknown"),
])
def test_os_classification(os_release: dict[str, str], expected: str) -> None:
    assert os_support.classify(os_release)[0] == expected


def test_check_os_statuses() -> None:
    cluster = make_cluster(CP)
    host = cluster.spec.hosts[0]
    def status(release: dict[str, str], c: Cluster = cluster) -> str:
        return checks.check_os(c, host, good_facts(os_release=release))[0].status
    assert status({"ID": "ubuntu", "VERSION_ID": "24.04"}) == "ok"
    assert status({"ID": "ubuntu", "VERSION_ID": "20.04"}) == "warning"
    assert status({}) == "warning"
    assert status({"ID": "alpine", "VERSION_ID": "3.20"}) == "error"
    allowing = make_cluster(CP, kubesprayVars={"allow_unsupported_distribution_setup": True})
    assert status({"ID": "alpine", "VERSION_ID": "3.20"}, allowing) == "warning"
    ignoring = make_cluster(CP, kubesprayVars={"ignore_assert_errors": True})
    assert status({"ID": "alpine", "VERSION_ID": "3.20"}, ignoring) == "warning"


def test_check_arch() -> None:
    cluster = make_cluster(CP)
    host = cluster.spec.hosts[0]
    assert statuses(checks.check_arch(cluster, host, good_facts(arch="aarch64"))) == [
        ("os.arch", "ok")]
    assert statuses(checks.check_arch(cluster, host, good_facts(arch="ppc64le"))) == [
        ("os.arch", "error")]


def test_control_plane_needs_two_cpus() -> None:
    cluster = make_cluster(CP, WK)
    cp, wk = cluster.spec.hosts
    small = good_facts(cpus=1)
    assert statuses(checks.check_cpu(cluster, cp, small)) == [("resources.cpu", "error")]
    assert checks.check_cpu(cluster, wk, small) == [
        Finding("wk1", "resources", "resources.cpu", "ok", "1 CPU")]


def test_disk_thresholds() -> None:
    cluster = make_cluster(CP)
    host = cluster.spec.hosts[0]
    facts = good_facts(disk_free_mb={"/": 30 * 1024, "/var": 4 * 1024})
    found = checks.check_disk(cluster, host, facts)
    assert [(f.status, f.message) for f in found] == [
        ("ok", "/: 30.0 GB free"), ("error", "/var: 4.0 GB free")]
    found = checks.check_disk(cluster, host, good_facts(disk_free_mb={"/": 10 * 1024}))
    assert [(f.status, f.message) for f in found] == [
        ("warning", "/: 10.0 GB free"), ("warning", "/var: free space unknown")]


def test_swap_is_a_warning() -> None:
    cluster = make_cluster(CP)
    found = checks.check_swap(cluster, cluster.spec.hosts[0], good_facts(swap_mb=2048))
    assert statuses(found) == [("resources.swap", "warning")]
    assert "Kubespray turns it off" in found[0].message


def test_sudo_checked_only_with_become() -> None:
    cluster = make_cluster(CP, ssh={"user": "ops"})
    host = cluster.spec.hosts[0]
    broken = good_facts(sudo_rc=1, sudo_output="sudo: a password is required")
    assert checks.check_sudo(cluster, host, broken) == [Finding(
        "cp1", "ssh", "ssh.sudo", "error",
        "`sudo -n true` failed for ops: sudo: a password is required",
        "give ops passwordless sudo (e.g. `ops ALL=(ALL) NOPASSWD: ALL` in /etc/sudoers.d/ops); "
        "Kubespray runs with become: true")]
    no_become = make_cluster(CP, ssh={"become": False})
    assert checks.check_sudo(no_become, no_become.spec.hosts[0], broken) == []


def test_hostname_must_be_rfc1123() -> None:
    cluster = make_cluster(CP)
    host = cluster.spec.hosts[0]
    assert statuses(checks.check_hostname(cluster, host, good_facts(hostname="CP_1"))) == [
        ("identity.hostname", "error")]
    found = checks.check_hostname(cluster, host, good_facts(hostname="old-name"))
    assert found[0].message == "hostname old-name (Kubespray renames it to cp1)"


def test_ports_per_role() -> None:
    cluster = make_cluster(CP, WK)
    cp, wk = cluster.spec.hosts
    assert checks.needed_ports(cp) == [2379, 2380, 6443, 10250, 10257, 10259]
    assert checks.needed_ports(wk) == [10250]
    busy = good_facts(listening_ports=[22, 6443, 2379])
    found = checks.check_ports(cluster, cp, busy)
    assert [(f.status, f.message) for f in found] == [("error", "ports 2379, 6443 are in use")]
    assert statuses(checks.check_ports(cluster, wk, busy)) == [("ports.free", "ok")]
    existing = good_facts(listening_ports=[10250], runtimes={"kubelet": "active"})
    assert statuses(checks.check_ports(cluster, wk, existing)) == [("ports.free", "warning")]


def test_internal_address_must_be_local() -> None:
    cluster = make_cluster({**CP, "internalAddress": "10.1.0.11"}, WK)
    cp, wk = cluster.spec.hosts
    assert statuses(checks.check_internal_address(cluster, cp, good_facts())) == [
        ("network.internal-address", "error")]
    # Kubespray's "ip" must be among the host's addresses as Ansible lists them: "local" in
    # the routing table is not enough, and 127.0.0.0/8 never is
    assert statuses(checks.check_internal_address(
        cluster, cp, good_facts(internal_address_local=True))) == [
        ("network.internal-address", "error")]
    assert statuses(checks.check_internal_address(
        cluster, cp, good_facts(addresses=["127.0.0.1", "10.1.0.11"]))) == [
        ("network.internal-address", "ok")]
    loopback = make_cluster({**CP, "address": "127.0.0.5", "internalAddress": "127.0.0.5"})
    (found,) = checks.check_internal_address(loopback, loopback.spec.hosts[0],
                                             good_facts(addresses=["127.0.0.5"]))
    assert (found.status, found.message) == (
        "error", "internalAddress 127.0.0.5 is not among this host's addresses (none found); "
        "Kubespray stops at 'Stop if ip var does not match local ips' (kubernetes/preinstall)")
    assert statuses(checks.check_internal_address(cluster, wk, good_facts())) == [
        ("network.internal-address", "warning")]
    assert statuses(checks.check_internal_address(
        cluster, wk, good_facts(addresses=["10.0.0.21"]))) == [("network.internal-address", "ok")]


def test_peer_probe() -> None:
    cluster = make_cluster(CP)
    host = cluster.spec.hosts[0]
    assert checks.check_peer(cluster, host, good_facts()) == []
    down = good_facts(peer="10.0.0.21:22", peer_reachable=False)
    assert statuses(checks.check_peer(cluster, host, down)) == [("network.peer", "error")]
    unknown = good_facts(peer="10.0.0.21:22", peer_reachable=None)
    assert statuses(checks.check_peer(cluster, host, unknown)) == [("network.peer", "warning")]


def test_existing_runtime_is_a_warning() -> None:
    cluster = make_cluster(CP)
    found = checks.check_runtime(cluster, cluster.spec.hosts[0],
                                 good_facts(runtimes={"kubelet": "installed", "containerd": "active"}))
    assert [(f.status, f.message) for f in found] == [
        ("warning", "already installed: containerd (active), kubelet (installed)")]


# -- GPUs -------------------------------------------------------------------------------------


H100S = parse_gpus(H100_CSV)
PCI_H100 = [f"{i}:00.0 3D controller [0302]: NVIDIA Corporation GH100 [10de:2330]"
            for i in range(8)] + ["05:00.0 Bridge [0680]: NVIDIA Corporation Device [10de:22a3]"]


def gpu_findings(facts: HostFacts, **gpu_addon: Any) -> list[tuple[str, str]]:
    cluster = make_cluster(CP, GPU, addons={"gpu": gpu_addon})
    return statuses(gpu.check_gpus(cluster, cluster.spec.hosts[1], facts))


def test_gpu_host_with_driver_and_preinstalled_setting() -> None:
    facts = good_facts(gpus=H100S, nvidia_smi_rc=0, pci_gpus=PCI_H100)
    assert gpu_findings(facts) == [("gpu.present", "ok"), ("gpu.driver", "ok"), ("gpu.mig", "ok")]
    cluster = make_cluster(CP, GPU)
    assert gpu.check_gpus(cluster, cluster.spec.hosts[1], facts)[0].message == (
        "8x NVIDIA H100 80GB HBM3")


def test_driver_installed_while_operator_installs_it_is_a_conflict() -> None:
    facts = good_facts(gpus=H100S, nvidia_smi_rc=0, pci_gpus=PCI_H100)
    assert gpu_findings(facts, driver={"install": True}) == [
        ("gpu.present", "ok"), ("gpu.driver", "error"), ("gpu.mig", "ok")]


def test_driver_missing() -> None:
    failing = good_facts(pci_gpus=PCI_H100, nvidia_smi_rc=9,
                         nvidia_smi_output="NVIDIA-SMI has failed because it couldn't ...")
    assert gpu_findings(failing) == [("gpu.present", "ok"), ("gpu.driver", "error")]
    assert gpu_findings(failing, driver={"install": True}) == [
        ("gpu.present", "ok"), ("gpu.driver", "ok")]
    cluster = make_cluster(CP, GPU)
    found = gpu.check_gpus(cluster, cluster.spec.hosts[1], failing)
    assert found[0].message == "8 NVIDIA GPU(s) on the PCI bus"
    assert found[1].message == (
        "no working NVIDIA driver, and addons.gpu.driver.install is false "
        "(nvidia-smi exits 9: NVIDIA-SMI has failed because it couldn't ...)")


def test_gpu_host_without_gpus_is_an_error() -> None:
    assert gpu_findings(good_facts()) == [("gpu.present", "error")]


def test_mig_mode_against_strategy() -> None:
    mig = [Gpu(0, "NVIDIA A100-SXM4-40GB", "GPU-x", 40960, "535.230.02", "Enabled")]
    facts = good_facts(gpus=mig, nvidia_smi_rc=0)
    assert gpu_findings(facts)[-1] == ("gpu.mig", "warning")
    assert gpu_findings(facts, mig={"strategy": "single"})[-1] == ("gpu.mig", "ok")
    no_mig = good_facts(gpus=H100S, nvidia_smi_rc=0)
    assert gpu_findings(no_mig, mig={"strategy": "mixed"})[-1] == ("gpu.mig", "error")
    half = [Gpu(0, "A100", "a", 1, "1", "Enabled"), Gpu(1, "A100", "b", 1, "1", "Disabled")]
    assert gpu_findings(good_facts(gpus=half, nvidia_smi_rc=0),
                        mig={"strategy": "single"})[-1] == ("gpu.mig", "warning")


def test_gpus_on_a_non_gpu_host_are_a_warning() -> None:
    cluster = make_cluster(CP)
    found = gpu.check_gpus(cluster, cluster.spec.hosts[0],
                           good_facts(gpus=H100S, nvidia_smi_rc=0))
    assert [(f.check, f.status, f.message) for f in found] == [
        ("gpu.unexpected", "warning", "8x NVIDIA H100 80GB HBM3 found, but the host is gpu: false")]
    assert gpu.check_gpus(cluster, cluster.spec.hosts[0], good_facts()) == []


def test_gpu_addon_disabled_skips_driver_and_mig() -> None:
    facts = good_facts(gpus=H100S, nvidia_smi_rc=0)
    assert gpu_findings(facts, enabled=False, driver={"install": True}) == [("gpu.present", "ok")]


# -- across hosts -----------------------------------------------------------------------------


def test_duplicates_are_errors_on_every_owner() -> None:
    facts = {
        "a": good_facts(hostname="a", machine_id="1" * 32, product_uuid="u1"),
        "b": good_facts(hostname="b", machine_id="1" * 32, product_uuid="u2"),
        "c": good_facts(hostname="a", machine_id="2" * 32, product_uuid=None),
    }
    found = {(f.host, f.check): (f.status, f.message) for f in check_unique(facts)}
    assert found == {
        ("a", "identity.hostname-unique"): ("error", "hostname a is also on c"),
        ("c", "identity.hostname-unique"): ("error", "hostname a is also on a"),
        ("b", "identity.hostname-unique"): ("ok", "hostname is unique"),
        ("a", "identity.machine-id"): ("error", f"machine-id {'1' * 32} is also on b"),
        ("b", "identity.machine-id"): ("error", f"machine-id {'1' * 32} is also on a"),
        ("c", "identity.machine-id"): ("ok", "machine-id is unique"),
        ("a", "identity.product-uuid"): ("ok", "product_uuid is unique"),
        ("b", "identity.product-uuid"): ("ok", "product_uuid is unique"),
    }


def test_clock_skew_against_median() -> None:
    facts = {
        "a": good_facts(remote_time=1000, local_time=1000.0),
        "b": good_facts(remote_time=1002, local_time=1000.0),
        "c": good_facts(remote_time=1040, local_time=1001.0),
    }
    found = [(f.host, f.status, f.message) for f in check_clock(facts)]
    assert found == [
        ("a", "ok", "clock -2 s against the median of 3 host(s)"),
        ("b", "ok", "clock +0 s against the median of 3 host(s)"),
        ("c", "error", "clock +37 s against the median of 3 host(s)"),
    ]


def test_evaluate_and_report_json() -> None:
    cluster = make_cluster(CP, WK)
    facts = {"cp1": good_facts(), "wk1": good_facts(hostname="wk1", machine_id="b" * 32,
                                                    addresses=["10.0.0.21"], swap_mb=10)}
    found = evaluate(cluster, facts)
    assert all(f.status == "ok" for f in found["cp1"])
    assert [f.check for f in found["wk1"] if f.status != "ok"] == ["resources.swap"]
    report = PreflightReport("lab", [HostResult("cp1", "10.0.0.11", findings=found["cp1"]),
                                     HostResult("wk1", "10.0.0.21", findings=found["wk1"])])
    assert (report.has_errors, report.has_warnings, report.status) == (False, True, "warning")
    data = report.to_json()
    assert [h["status"] for h in data["hosts"]] == ["ok", "warning"]
    assert data["counts"]["warning"] == 1
