"""Kubespray's host assertions, checked by preflight (deepctl.preflight.kubespray_asserts), and
the service manager as Ansible finds it (deepctl.preflight.init_system)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from deepctl.preflight import kubespray_asserts as ka
from deepctl.preflight.cluster_checks import evaluate
from deepctl.preflight.init_system import PROBE_SCRIPT, parse_probe, service_manager
from deepctl.preflight.model import Finding
from deepctl.preflight.script import build_script, parse_nameservers, parse_output
from tests.unit.test_preflight_checks import CP, WK, good_facts, make_cluster, statuses

ETCD = {"name": "etcd1", "address": "10.0.0.41", "roles": ["etcd"]}


@pytest.mark.parametrize(("probe", "expected"), [
    ({"pid1": "systemd", "systemctl": ""}, "systemd"),
    ({"pid1": "process_api", "systemctl": "", "canary": "/run/systemd/system/"}, "process_api"),
    ({"pid1": "runit-init"}, "runit"),
    # PID 1 named "init" or a shell is not trusted: what is installed decides
    ({"pid1": "sh", "systemctl": "", "canary": "/run/systemd/system/"}, "systemd"),
    ({"pid1": "init", "init.d": ""}, "sysvinit"),
    ({"pid1": "bash", "systemctl": "", "sbin_init": "/lib/systemd/systemd"}, "systemd"),
    ({"pid1": "bash", "sbin_init": "/lib/systemd/systemd"}, "service"),
    ({"pid1": "", "sbin_init": "/lib/systemd/systemd"}, "systemd"),
    ({"pid1": "dumb-init.sh", "openrc": ""}, "openrc"),
])
def test_service_manager_as_ansible_finds_it(probe: dict[str, str], expected: str) -> None:
    assert service_manager(probe) == expected


def _sh(script: str) -> str:
    return subprocess.run(["sh", "-s"], input=script, capture_output=True, text=True,
                          check=True, timeout=30).stdout


def test_the_probe_agrees_with_ansible_on_this_machine(tmp_path: Path) -> None:
    """The real facts-script probe, judged against Ansible's own fact on the same machine."""
    ansible = Path(sys.executable).parent / "ansible"
    if not ansible.exists():
        pytest.skip("ansible is not installed beside this Python")
    result = subprocess.run(
        [str(ansible), "localhost", "-c", "local", "-m", "setup", "-a",
         "gather_subset=!all,!min,service_mgr filter=ansible_service_mgr", "-o",
         "-e", f"ansible_python_interpreter={sys.executable}"],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "ANSIBLE_LOCALHOST_WARNING": "false", "ANSIBLE_NOCOLOR": "1",
             "ANSIBLE_LOCAL_TEMP": str(tmp_path), "ANSIBLE_HOME": str(tmp_path)})
    assert result.returncode == 0, result.stdout + result.stderr
    ansible_says = json.loads(result.stdout.split("=>", 1)[1])["ansible_facts"]
    assert service_manager(parse_probe(_sh(PROBE_SCRIPT))) == ansible_says["ansible_service_mgr"]


def test_the_facts_script_reports_init_cgroups_and_nameservers() -> None:
    text = _sh(build_script("127.0.0.1", None, become=False))
    facts = parse_output(text, internal_address="127.0.0.1", peer=None, local_time=None)
    assert facts.service_mgr == service_manager(facts.init_probe) != ""
    assert "pid1" in facts.init_probe
    assert (facts.cgroup_fs is None) != (facts.cgroup_error is None)
    assert facts.nameservers is None or isinstance(facts.nameservers, list)
    assert facts.ping != ""  # probed: its path, or None


def test_nameserver_lines_keep_addresses_only() -> None:
    body = "nameserver 127.0.0.53\nnameserver  10.0.0.2 # lab\nnameserver dns.example\n@rc 0"
    assert parse_nameservers(body) == ["127.0.0.53", "10.0.0.2"]
    assert parse_nameservers("\n@rc absent") is None


def test_non_systemd_host_fails_as_kubespray_would() -> None:
    cluster = make_cluster(CP)
    host = cluster.spec.hosts[0]
    facts = good_facts(service_mgr="process_api", init_probe={"pid1": "process_api"})
    (found,) = ka.check_service_manager(cluster, host, facts)
    assert (found.check, found.status) == ("os.systemd", "error")
    assert found.message == (
        "the service manager is 'process_api', not systemd (PID 1 is 'process_api'); "
        "Kubespray stops at 'Stop if non systemd OS type' (kubernetes/preinstall)")
    lenient = make_cluster(CP, kubesprayVars={"ignore_assert_errors": True})
    (found,) = ka.check_service_manager(lenient, lenient.spec.hosts[0], facts)
    assert found.status == "warning" and "unless ignore_assert_errors is true" in found.message
    assert ka.check_service_manager(cluster, host, good_facts(service_mgr="")) == []


def test_memory_per_role_as_kubespray_checks_it() -> None:
    both = {"name": "cp1", "address": "10.0.0.11", "roles": ["control-plane", "etcd", "worker"]}
    cluster = make_cluster(both, WK, ETCD)
    cp, wk, etcd = cluster.spec.hosts
    assert statuses(ka.check_memory(cluster, cp, good_facts(mem_mb=1400))) == [
        ("resources.memory", "error"), ("resources.memory", "ok")]
    assert ka.check_memory(cluster, wk, good_facts(mem_mb=1000)) == [Finding(
        "wk1", "resources", "resources.memory", "error",
        "1000 MB memory; a node needs at least 1024 MB (minimal_node_memory_mb); Kubespray "
        "stops at 'Stop if memory is too small for nodes' (kubernetes/preinstall)",
        "add memory to the host, or give its role to a bigger host")]
    assert ka.check_memory(cluster, etcd, good_facts(mem_mb=512)) == []  # Kubespray: no check
    smaller = make_cluster(WK, kubesprayVars={"minimal_node_memory_mb": 512})
    assert statuses(ka.check_memory(smaller, smaller.spec.hosts[0], good_facts(mem_mb=600))) == [
        ("resources.memory", "ok")]


def test_cgroups_must_be_mounted() -> None:
    cluster = make_cluster(CP)
    host = cluster.spec.hosts[0]
    assert [f.message for f in ka.check_cgroups(cluster, host, good_facts())] == [
        "cgroups mounted on /sys/fs/cgroup (cgroup2fs, cgroup v2)"]
    missing = good_facts(cgroup_fs=None, cgroup_error="stat: cannot read file system "
                         "information for '/sys/fs/cgroup/': No such file or directory")
    (found,) = ka.check_cgroups(cluster, host, missing)
    assert found.status == "error"
    assert found.message.endswith("Kubespray stops at 'Stop if cgroups are not enabled on "
                                  "nodes' (kubernetes/preinstall)")


def test_resolv_conf_needs_a_nameserver_unless_dns_comes_from_elsewhere() -> None:
    cluster = make_cluster(CP)
    host = cluster.spec.hosts[0]
    assert statuses(ka.check_nameservers(cluster, host, good_facts())) == [
        ("network.nameservers", "ok")]
    (found,) = ka.check_nameservers(cluster, host, good_facts(nameservers=None))
    assert (found.status, found.message.split(";")[0]) == (
        "error", "/etc/resolv.conf has no nameserver line with an IP address (there is no "
        "/etc/resolv.conf)")
    # not skipped by ignore_assert_errors: Kubespray's assert has no such condition
    lenient = make_cluster(CP, kubesprayVars={"ignore_assert_errors": True})
    assert statuses(ka.check_nameservers(lenient, lenient.spec.hosts[0],
                                         good_facts(nameservers=[]))) == [
        ("network.nameservers", "error")]
    for extra in ({"upstream_dns_servers": ["10.0.0.53"]}, {"dns_mode": "manual"},
                  {"disable_host_nameservers": True}):
        other = make_cluster(CP, kubesprayVars=extra)
        assert ka.check_nameservers(other, other.spec.hosts[0], good_facts(nameservers=[])) == []


@pytest.mark.parametrize(("kubernetes", "extra", "kernel", "expected"), [
    ({}, {}, "3.10.0-1160.el7.x86_64", []),  # calico, ipvs: no kernel assert
    ({"networkPlugin": "cilium"}, {}, "4.9.16", [("os.kernel", "error")]),
    ({"networkPlugin": "cilium"}, {}, "4.9.17-1-amd64", [("os.kernel", "ok")]),
    ({"proxyMode": "nftables"}, {}, "5.10.0-32-amd64", [("os.kernel", "error")]),
    ({"proxyMode": "nftables"}, {}, "6.8.0-49-generic", [("os.kernel", "ok")]),
    ({"networkPlugin": "cilium"},
     {"cilium_encryption_enabled": True, "cilium_encryption_type": "wireguard"}, "5.4.0",
     [("os.kernel", "ok"), ("os.kernel", "error")]),
    ({"networkPlugin": "flannel"}, {"flannel_backend_type": "wireguard"}, "5.5",
     [("os.kernel", "error")]),
])
def test_kernel_minimums_follow_the_network_settings(
        kubernetes: dict[str, Any], extra: dict[str, Any], kernel: str,
        expected: list[tuple[str, str]]) -> None:
    cluster = make_cluster(CP, kubernetes={"version": "1.35.4", **kubernetes},
                           kubesprayVars=extra)
    found = ka.check_kernel(cluster, cluster.spec.hosts[0], good_facts(kernel=kernel))
    assert statuses(found) == expected


def test_evaluate_runs_the_kubespray_asserts() -> None:
    cluster = make_cluster(CP)
    facts = good_facts(service_mgr="sysvinit", cgroup_fs=None, cgroup_error="no such file")
    found = evaluate(cluster, {"cp1": facts})["cp1"]
    assert [f.check for f in found if f.status == "error"] == ["os.systemd", "os.cgroups"]


def test_flatcar_refuses_cached_downloads() -> None:
    facts = good_facts(os_release={"ID": "flatcar", "VERSION_ID": "4152.2.0"})
    plain = make_cluster(CP)
    assert ka.check_flatcar_download(plain, plain.spec.hosts[0], facts) == []
    cached = make_cluster(CP, kubesprayVars={"download_run_once": True})
    assert statuses(ka.check_flatcar_download(cached, cached.spec.hosts[0], facts)) == [
        ("os.supported", "error")]
    assert ka.check_flatcar_download(cached, cached.spec.hosts[0], good_facts()) == []


def test_ping_must_be_installed_unless_kubespray_is_told_not_to_ping() -> None:
    cluster = make_cluster(CP)
    host = cluster.spec.hosts[0]
    assert statuses(ka.check_ping(cluster, host, good_facts(ping="/usr/bin/ping"))) == [
        ("network.ping", "ok")]
    (found,) = ka.check_ping(cluster, host, good_facts(ping=None))
    assert (found.status, found.message) == (
        "error", "`ping` is not installed; Kubespray stops at 'Stop if access_ip is not "
        "pingable' (kubernetes/preinstall)")
    assert "`ping_access_ip: false` in spec.kubesprayVars" in (found.hint or "")
    quiet = make_cluster(CP, kubesprayVars={"ping_access_ip": False})
    assert ka.check_ping(quiet, quiet.spec.hosts[0], good_facts(ping=None)) == []
    assert ka.check_ping(cluster, host, good_facts(ping="")) == []  # not probed


def test_parse_output_reads_the_kubespray_assert_sections() -> None:
    text = ("\n@@hostname\nkcp1\n@@init\npid1 sh\nsystemctl\ncanary /run/systemd/system/\n"
            "init.d\n@@cgroup\ncgroup2fs\n\n@rc 0\n@@ping\n/usr/bin/ping\n"
            "@@resolv\nnameserver 10.0.0.2\n\n@rc 0\n@@end\n")
    facts = parse_output(text, internal_address="10.0.0.11", peer=None, local_time=None)
    assert (facts.service_mgr, facts.cgroup_fs, facts.cgroup_error, facts.ping,
            facts.nameservers) == ("systemd", "cgroup2fs", None, "/usr/bin/ping", ["10.0.0.2"])
    broken = ("\n@@init\npid1 process_api\n@@cgroup\nstat: cannot read file system information"
              " for '/sys/fs/cgroup/'\n\n@rc 1\n@@ping\n\n@@resolv\n\n@rc absent\n@@end\n")
    facts = parse_output(broken, internal_address="", peer=None, local_time=None)
    assert (facts.service_mgr, facts.cgroup_fs, facts.ping, facts.nameservers) == (
        "process_api", None, None, None)
    assert facts.cgroup_error == "stat: cannot read file system information for '/sys/fs/cgroup/'"
    old = parse_output("\n@@hostname\nx\n@@end\n", internal_address="", peer=None,
                       local_time=None)  # an older script: nothing probed, nothing judged
    assert (old.service_mgr, old.ping, old.nameservers) == ("", "", None)
