"""Checks across hosts (uniqueness, clock skew) and :func:`evaluate`, which runs every check.

All pure: ``facts by host name -> findings by host name``.
"""

from __future__ import annotations

import statistics
from collections import defaultdict

from deepctl.clusterspec.models import Cluster
from deepctl.preflight import checks, gpu, kubespray_asserts, offline, storage
from deepctl.preflight.model import Finding, HostFacts, error, ok

MAX_CLOCK_SKEW_S = 30.0

HOST_CHECKS: tuple[checks.HostCheck, ...] = (
    checks.check_sudo,
    checks.check_os,
    checks.check_arch,
    kubespray_asserts.check_service_manager,
    kubespray_asserts.check_flatcar_download,
    kubespray_asserts.check_cgroups,
    kubespray_asserts.check_kernel,
    checks.check_cpu,
    kubespray_asserts.check_memory,
    checks.check_disk,
    checks.check_swap,
    checks.check_hostname,
    checks.check_ports,
    checks.check_internal_address,
    checks.check_peer,
    offline.check_offline,
    kubespray_asserts.check_nameservers,
    kubespray_asserts.check_ping,
    gpu.check_gpus,
    storage.check_ceph_devices,
    checks.check_runtime,
)

_UNIQUE = (
    # (fact, check id, what, hint)
    ("hostname", "identity.hostname-unique", "hostname",
     "give every host its own hostname (`hostnamectl set-hostname NAME`)"),
    ("machine_id", "identity.machine-id", "machine-id",
     "the hosts were cloned from one image: run `rm /etc/machine-id && "
     "systemd-machine-id-setup` on the copies and reboot"),
    ("product_uuid", "identity.product-uuid", "product_uuid",
     "cloned VMs share a DMI UUID: give each VM its own UUID in the hypervisor"),
)


def check_unique(facts: dict[str, HostFacts]) -> list[Finding]:
    out: list[Finding] = []
    for attr, check, what, hint in _UNIQUE:
        owners: dict[str, list[str]] = defaultdict(list)
        for name, host_facts in facts.items():
            value = getattr(host_facts, attr)
            if value:
                owners[value].append(name)
        for value, names in owners.items():
            for name in names:
                others = [n for n in names if n != name]
                if others:
                    out.append(error(name, "identity", check,
                                     f"{what} {value} is also on {', '.join(others)}", hint))
                else:
                    out.append(ok(name, "identity", check, f"{what} is unique"))
    return out


def check_clock(facts: dict[str, HostFacts]) -> list[Finding]:
    offsets = {n: f.clock_offset for n, f in facts.items() if f.clock_offset is not None}
    if not offsets:
        return []
    median = statistics.median(offsets.values())
    out: list[Finding] = []
    for name, offset in offsets.items():
        skew = offset - median
        text = f"clock {round(skew):+d} s against the median of {len(offsets)} host(s)"
        if abs(skew) > MAX_CLOCK_SKEW_S:
            out.append(error(name, "clock", "clock.skew", text,
                             "synchronise clocks with NTP (`timedatectl set-ntp true`, "
                             "chrony); etcd and TLS certificates need agreeing clocks"))
        else:
            out.append(ok(name, "clock", "clock.skew", text))
    return out


def evaluate(cluster: Cluster, facts: dict[str, HostFacts]) -> dict[str, list[Finding]]:
    """Every finding for the hosts whose facts were gathered, grouped by host name."""
    out: dict[str, list[Finding]] = {name: [] for name in facts}
    for name, host_facts in facts.items():
        host = cluster.host(name)
        if host is None:
            continue
        for check in HOST_CHECKS:
            out[name].extend(check(cluster, host, host_facts))
    for finding in check_unique(facts) + check_clock(facts):
        out[finding.host].append(finding)
    return out
