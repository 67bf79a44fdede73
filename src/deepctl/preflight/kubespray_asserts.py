"""Kubespray's own host assertions, checked before Kubespray runs. Pure.

Each check here mirrors one assert of Kubespray v2.31.0 that depends only on the host (mostly
``roles/kubernetes/preinstall/tasks/0040-verify-settings.yml``) and names it, so that a host
preflight passes does not stop Kubespray minutes later. docs/preflight.md lists every assert
and where it is checked. Kubespray skips most of them when ``ignore_assert_errors`` is true;
so does preflight, which then only warns.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from deepctl.clusterspec.models import Cluster, Host
from deepctl.preflight.model import Finding, HostFacts, error, ok, warning

PREINSTALL = "kubernetes/preinstall"
# Kubespray's defaults (roles/kubernetes/preinstall/defaults/main.yml).
MIN_CONTROL_PLANE_MEM_MB = 1500  # minimal_master_memory_mb
MIN_NODE_MEM_MB = 1024  # minimal_node_memory_mb
_TRUE = {"true", "yes", "on", "1"}


def kubespray_var(cluster: Cluster, name: str, default: Any) -> Any:
    """``spec.kubesprayVars[name]`` or Kubespray's default."""
    return cluster.spec.kubespray_vars.get(name, default)


def var_true(cluster: Cluster, name: str, default: bool = False) -> bool:
    value = kubespray_var(cluster, name, default)
    return value.strip().lower() in _TRUE if isinstance(value, str) else bool(value)


def _int_var(cluster: Cluster, name: str, default: int) -> int:
    value = kubespray_var(cluster, name, default)
    try:
        return int(value)
    except (TypeError, ValueError):
        return default  # a template: Kubespray's default is the best guess


def assert_finding(cluster: Cluster, host: Host, check: str, group: str, failed: bool, ok_text: str,
            text: str, task: str, hint: str, role: str = PREINSTALL,
            gated: bool = True) -> Finding:
    """A finding for one Kubespray assert: error, or a warning when Kubespray skips it."""
    if not failed:
        return ok(host.name, group, check, ok_text)
    said = f"{text}; Kubespray stops at {task!r} ({role})"
    if gated and var_true(cluster, "ignore_assert_errors"):
        return warning(host.name, group, check,
                       f"{said}, unless ignore_assert_errors is true, as it is here", hint)
    return error(host.name, group, check, said, hint)


def check_service_manager(cluster: Cluster, host: Host, facts: HostFacts) -> list[Finding]:
    if not facts.service_mgr:
        return []  # facts from an older deepctl
    pid1 = facts.init_probe.get("pid1") or "?"
    return [assert_finding(
        cluster, host, "os.systemd", "os", facts.service_mgr != "systemd",
        "systemd manages services",
        f"the service manager is {facts.service_mgr!r}, not systemd (PID 1 is {pid1!r})",
        "Stop if non systemd OS type",
        "Kubespray installs kubelet and containerd as systemd services: use a host (VM or "
        "bare metal) booted with systemd as PID 1, not a container")]


def check_memory(cluster: Cluster, host: Host, facts: HostFacts) -> list[Finding]:
    """Kubespray's memory asserts, per role: control planes and nodes (workers)."""
    if facts.mem_mb is None:
        return []
    limits = []
    if "control-plane" in host.roles:
        limits.append(("control plane", "minimal_master_memory_mb",
                       _int_var(cluster, "minimal_master_memory_mb", MIN_CONTROL_PLANE_MEM_MB),
                       "Stop if memory is too small for control plane nodes"))
    if "worker" in host.roles:
        limits.append(("node", "minimal_node_memory_mb",
                       _int_var(cluster, "minimal_node_memory_mb", MIN_NODE_MEM_MB),
                       "Stop if memory is too small for nodes"))
    out = []
    for what, var, need, task in limits:
        out.append(assert_finding(
            cluster, host, "resources.memory", "resources", facts.mem_mb < need,
            f"{facts.mem_mb} MB memory (a {what} needs {need} MB)",
            f"{facts.mem_mb} MB memory; a {what} needs at least {need} MB ({var})", task,
            "add memory to the host, or give its role to a bigger host"))
    return out


def check_cgroups(cluster: Cluster, host: Host, facts: HostFacts) -> list[Finding]:
    if facts.cgroup_fs is None and facts.cgroup_error is None:
        return []
    if facts.cgroup_fs is not None:
        version = {"cgroup2fs": "cgroup v2", "tmpfs": "cgroup v1"}.get(facts.cgroup_fs, "")
        return [ok(host.name, "os", "os.cgroups",
                   f"cgroups mounted on /sys/fs/cgroup ({facts.cgroup_fs}"
                   + (f", {version})" if version else ")"))]
    return [assert_finding(
        cluster, host, "os.cgroups", "os", True, "",
        f"no cgroup file system on /sys/fs/cgroup ({facts.cgroup_error or 'stat failed'})",
        "Stop if cgroups are not enabled on nodes",
        "boot the host with cgroups enabled (systemd mounts /sys/fs/cgroup); check the "
        "kernel command line for cgroup_disable=")]


def check_nameservers(cluster: Cluster, host: Host, facts: HostFacts) -> list[Finding]:
    """resolv.conf needs a nameserver unless DNS comes from elsewhere (not gated)."""
    if facts.nameservers is None and not facts.service_mgr:
        return []  # facts from an older deepctl
    upstream = kubespray_var(cluster, "upstream_dns_servers", [])
    dns_mode = kubespray_var(cluster, "dns_mode", "coredns")
    if upstream or var_true(cluster, "disable_host_nameservers") or dns_mode not in (
            "coredns", "coredns_dual"):
        return []
    servers = facts.nameservers or []
    return [assert_finding(
        cluster, host, "network.nameservers", "network", not servers,
        f"nameservers: {', '.join(servers)}",
        "/etc/resolv.conf has no nameserver line with an IP address"
        + ("" if facts.nameservers is not None else " (there is no /etc/resolv.conf)"),
        "Stop if /etc/resolv.conf has no configured nameservers",
        "add `nameserver <IP>` to /etc/resolv.conf on the host, or set upstream_dns_servers "
        "in spec.kubesprayVars", gated=False)]


def version_tuple(text: str) -> tuple[int, ...]:
    """``5.15.0-91-generic`` -> ``(5, 15, 0)`` (the part Kubespray compares)."""
    parts = []
    for piece in text.split("-")[0].split("."):
        digits = re.match(r"\d+", piece)
        if digits is None:
            break
        parts.append(int(digits.group()))
    return tuple(parts)


def kernel_minimums(cluster: Cluster) -> list[tuple[str, str, str, str]]:
    """(minimum, why, Kubespray task, role) for the spec's network settings."""
    k8s = cluster.spec.kubernetes
    vars_: Mapping[str, Any] = cluster.spec.kubespray_vars
    cilium = k8s.network_plugin == "cilium" or var_true(cluster, "cilium_deploy_additionally")
    out = []
    if cilium:
        out.append(("4.9.17", "Cilium", "Stop if kernel version is too low for cilium",
                    PREINSTALL))
        if var_true(cluster, "cilium_encryption_enabled") and vars_.get(
                "cilium_encryption_type", "ipsec") == "wireguard":
            out.append(("5.6.0", "Cilium WireGuard encryption",
                        "Stop if kernel version is too low for Cilium Wireguard encryption",
                        "network_plugin/cilium"))
    if k8s.proxy_mode == "nftables":
        out.append(("5.13", "kube-proxy in nftables mode",
                    "Stop if kernel version is too low for nftables", PREINSTALL))
    if k8s.network_plugin == "flannel" and vars_.get("flannel_backend_type") == "wireguard":
        out.append(("5.6.0", "Flannel WireGuard encryption",
                    "Flannel | Stop if kernel version is too low for Flannel Wireguard "
                    "encryption", "network_plugin/flannel"))
    return out


def check_kernel(cluster: Cluster, host: Host, facts: HostFacts) -> list[Finding]:
    have = version_tuple(facts.kernel)
    if not have:
        return []
    out = []
    for minimum, why, task, role in kernel_minimums(cluster):
        out.append(assert_finding(
            cluster, host, "os.kernel", "os", have < version_tuple(minimum),
            f"kernel {facts.kernel} (>= {minimum} for {why})",
            f"kernel {facts.kernel} is older than {minimum}, which {why} needs", task,
            f"upgrade the kernel to {minimum} or later, or change the spec's network settings",
            role=role))
    return out


def check_flatcar_download(cluster: Cluster, host: Host, facts: HostFacts) -> list[Finding]:
    """Kubespray refuses download_run_once / download_force_cache on Flatcar (not gated)."""
    cached = var_true(cluster, "download_run_once") or var_true(cluster, "download_force_cache")
    if not cached or facts.os_release.get("ID") != "flatcar":
        return []
    return [assert_finding(
        cluster, host, "os.supported", "os", True, "",
        "download_run_once or download_force_cache is set, which Flatcar does not support",
        "Stop if download_localhost is enabled for Flatcar Container Linux",
        "remove download_run_once and download_force_cache from spec.kubesprayVars",
        gated=False)]


def check_ping(cluster: Cluster, host: Host, facts: HostFacts) -> list[Finding]:
    """Kubespray pings each host's access address from the host itself, before it would
    install ``ping`` on a first run (its system_packages needs main_access_ip, set later)."""
    if facts.ping == "" or not var_true(cluster, "ping_access_ip", default=True):
        return []
    return [assert_finding(
        cluster, host, "network.ping", "network", facts.ping is None, f"ping: {facts.ping}",
        "`ping` is not installed", "Stop if access_ip is not pingable",
        "install it on the host (Debian/Ubuntu: `apt-get install -y iputils-ping`, RHEL-like: "
        "`dnf install -y iputils`), or set `ping_access_ip: false` in spec.kubesprayVars")]
