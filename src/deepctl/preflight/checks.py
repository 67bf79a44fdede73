"""Per-host checks: pure functions ``(cluster, host, facts) -> [Finding]``.

Thresholds follow Kubespray v2.31.0 and kubeadm where they have them (the kubeadm CPU check
for control planes); Kubespray's own host asserts (memory per role, systemd, cgroups...) are
in :mod:`deepctl.preflight.kubespray_asserts`; the rest are deepctl's own, documented in
docs/preflight.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from ipaddress import ip_address

from deepctl.clusterspec.models import Cluster, Host
from deepctl.preflight import kubespray_asserts, os_support
from deepctl.preflight.model import Finding, HostFacts, error, ok, warning

CONTROL_PLANE_MIN_CPUS = 2
DISK_WARN_MB = 20 * 1024
DISK_ERROR_MB = 5 * 1024
DISK_MOUNTS = ("/", "/var")
CONTROL_PLANE_PORTS = (6443, 10257, 10259)
ETCD_PORTS = (2379, 2380)
NODE_PORTS = (10250,)
RFC1123_HOSTNAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$")

HostCheck = Callable[[Cluster, Host, HostFacts], list[Finding]]


def check_sudo(cluster: Cluster, host: Host, facts: HostFacts) -> list[Finding]:
    if not cluster.spec.ssh.become:
        return []
    user = host.ssh.user or cluster.spec.ssh.user
    if facts.sudo_rc == 0:
        return [ok(host.name, "ssh", "ssh.sudo", f"`sudo -n true` works for {user}")]
    said = facts.sudo_output.strip().splitlines()
    detail = f": {said[-1]}" if said else ""
    return [error(
        host.name, "ssh", "ssh.sudo", f"`sudo -n true` failed for {user}{detail}",
        f"give {user} passwordless sudo (e.g. `{user} ALL=(ALL) NOPASSWD: ALL` in "
        f"/etc/sudoers.d/{user}); Kubespray runs with become: true",
    )]


def check_os(cluster: Cluster, host: Host, facts: HostFacts) -> list[Finding]:
    level, name = os_support.classify(facts.os_release)
    os_id = facts.os_release.get("ID", "")
    allowed = (kubespray_asserts.var_true(cluster, "allow_unsupported_distribution_setup")
               or kubespray_asserts.var_true(cluster, "ignore_assert_errors"))
    if level == "supported":
        return [ok(host.name, "os", "os.supported", f"{name}: supported by Kubespray")]
    if level == "experimental":
        return [warning(host.name, "os", "os.supported",
                        f"{name}: experimental in Kubespray v2.31.0",
                        "expect rough edges; Ubuntu 22.04/24.04, Debian 12 or RHEL-like 9 "
                        "are the well-trodden paths")]
    if level == "untested-version":
        return [warning(host.name, "os", "os.supported",
                        f"{name}: Kubespray v2.31.0 documents only versions "
                        f"{os_support.documented_versions(os_id)} of this distribution",
                        "upgrade or reinstall the host with a documented version")]
    if level == "rejected" and not allowed:
        return [error(host.name, "os", "os.supported",
                      f"{name}: not an OS Kubespray v2.31.0 supports (its preinstall "
                      "stops with 'not a known OS')",
                      "reinstall the host with Ubuntu 22.04/24.04, Debian 12/13 or "
                      "RHEL/Rocky/Alma 9/10, or set kubesprayVars."
                      "allow_unsupported_distribution_setup: true at your own risk")]
    return [warning(host.name, "os", "os.supported", f"{name}: an OS Kubespray does not know",
                    "check the host's /etc/os-release; supported: Ubuntu 22.04/24.04, "
                    "Debian 12/13, RHEL/Rocky/Alma 9/10")]


def check_arch(cluster: Cluster, host: Host, facts: HostFacts) -> list[Finding]:
    arch = os_support.SUPPORTED_ARCHS.get(facts.arch)
    if arch is None:
        return [error(host.name, "os", "os.arch", f"architecture {facts.arch or '?'} is not "
                      "supported (amd64, arm64, arm)", "use an x86_64 or aarch64 host")]
    return [ok(host.name, "os", "os.arch", f"{facts.arch} ({arch}), kernel {facts.kernel}")]


def check_cpu(cluster: Cluster, host: Host, facts: HostFacts) -> list[Finding]:
    """kubeadm's CPU check for control planes (memory: kubespray_asserts.check_memory)."""
    if ("control-plane" in host.roles and facts.cpus is not None
            and facts.cpus < CONTROL_PLANE_MIN_CPUS):
        return [error(host.name, "resources", "resources.cpu",
                      f"{facts.cpus} CPU; a control plane needs at least "
                      f"{CONTROL_PLANE_MIN_CPUS} (kubeadm's preflight stops below)",
                      "give the host more CPUs or move the control-plane role elsewhere")]
    return [ok(host.name, "resources", "resources.cpu", f"{facts.cpus} CPU")]


def check_disk(cluster: Cluster, host: Host, facts: HostFacts) -> list[Finding]:
    out: list[Finding] = []
    for mount in DISK_MOUNTS:
        free = facts.disk_free_mb.get(mount)
        text = f"{mount}: {_gb(free)} free"
        hint = (f"free space on {mount} (container images and etcd live under /var); "
                f"at least {DISK_WARN_MB // 1024} GB is recommended")
        if free is None:
            out.append(warning(host.name, "resources", "resources.disk",
                               f"{mount}: free space unknown", "check `df -h` on the host"))
        elif free < DISK_ERROR_MB:
            out.append(error(host.name, "resources", "resources.disk", text, hint))
        elif free < DISK_WARN_MB:
            out.append(warning(host.name, "resources", "resources.disk", text, hint))
        else:
            out.append(ok(host.name, "resources", "resources.disk", text))
    return out


def _gb(mb: int | None) -> str:
    return "?" if mb is None else f"{mb / 1024:.1f} GB"


def check_swap(cluster: Cluster, host: Host, facts: HostFacts) -> list[Finding]:
    if facts.swap_mb:
        return [warning(host.name, "resources", "resources.swap",
                        f"swap is on ({facts.swap_mb} MB); Kubespray turns it off",
                        "fine to leave to Kubespray; to keep it off, remove the swap entry "
                        "from /etc/fstab")]
    return [ok(host.name, "resources", "resources.swap", "swap is off")]


def check_hostname(cluster: Cluster, host: Host, facts: HostFacts) -> list[Finding]:
    name = facts.hostname
    if not RFC1123_HOSTNAME.match(name):
        return [error(host.name, "identity", "identity.hostname",
                      f"hostname {name!r} is not a lower-case RFC 1123 name",
                      f"set it with `hostnamectl set-hostname {host.name}`")]
    note = "" if name == host.name else f" (Kubespray renames it to {host.name})"
    return [ok(host.name, "identity", "identity.hostname", f"hostname {name}{note}")]


def needed_ports(host: Host) -> list[int]:
    ports: list[int] = []
    if "control-plane" in host.roles:
        ports += CONTROL_PLANE_PORTS
    if "etcd" in host.roles:
        ports += ETCD_PORTS
    if "control-plane" in host.roles or "worker" in host.roles:
        ports += NODE_PORTS
    return sorted(ports)


def check_ports(cluster: Cluster, host: Host, facts: HostFacts) -> list[Finding]:
    wanted = needed_ports(host)
    busy = [p for p in wanted if p in facts.listening_ports]
    if not busy:
        return [ok(host.name, "ports", "ports.free", f"{_ports(wanted)} free")]
    listed = _ports(busy)
    hint = (f"find the process with `ss -ltnp '( {' or '.join(f'sport = :{p}' for p in busy)} )'` "
            "and stop it, or move this host's role")
    if "kubelet" in facts.runtimes:
        return [warning(host.name, "ports", "ports.free",
                        f"{listed} in use, and kubelet is installed: an existing "
                        "Kubernetes node?", hint)]
    return [error(host.name, "ports", "ports.free", f"{listed} in use", hint)]


def _ports(ports: list[int]) -> str:
    """``port 10250 is`` / ``ports 2379, 6443 are``."""
    if len(ports) == 1:
        return f"port {ports[0]} is"
    return f"ports {', '.join(map(str, ports))} are"


def effective_internal_address(host: Host) -> str | None:
    if host.internal_address is not None:
        return str(host.internal_address)
    try:
        return str(ip_address(host.address))
    except ValueError:
        return None


def ansible_addresses(facts: HostFacts) -> list[str]:
    """The host's addresses as Ansible lists them (``ansible_all_ipv4/6_addresses``: no
    127.0.0.0/8, no ``::1``)."""
    return [a for a in facts.addresses if not a.startswith("127.") and a != "::1"]


def check_internal_address(cluster: Cluster, host: Host, facts: HostFacts) -> list[Finding]:
    addr = effective_internal_address(host)
    if addr is None:
        return [ok(host.name, "network", "network.internal-address",
                   "no internalAddress: Kubespray uses the default-route address")]
    listed = ansible_addresses(facts)
    found = ", ".join(a for a in listed if ":" not in a) or "none found"
    hint = f"set spec.hosts[{host.name}].internalAddress to one of this host's addresses"
    if host.internal_address is not None:  # Kubespray's ``ip``: it must be listed
        return [kubespray_asserts.assert_finding(
            cluster, host, "network.internal-address", "network", addr not in listed,
            f"{addr} is an address of this host",
            f"internalAddress {addr} is not among this host's addresses ({found})",
            "Stop if ip var does not match local ips", hint)]
    if addr in facts.addresses or facts.internal_address_local:
        return [ok(host.name, "network", "network.internal-address",
                   f"{addr} is an address of this host")]
    return [warning(host.name, "network", "network.internal-address",
                    f"address {addr} is not an address of this host ({found})", hint)]


def check_peer(cluster: Cluster, host: Host, facts: HostFacts) -> list[Finding]:
    if facts.peer is None:
        return []
    if facts.peer_reachable:
        return [ok(host.name, "network", "network.peer", f"reaches {facts.peer}")]
    if facts.peer_reachable is None:
        return [warning(host.name, "network", "network.peer",
                        f"could not probe {facts.peer} (neither bash nor python3 on the host)",
                        "install bash or python3 (Ansible needs python3 anyway)")]
    return [error(host.name, "network", "network.peer",
                  f"cannot open a TCP connection to peer {facts.peer} within 3 s",
                  "check routes and firewalls between the hosts' internal addresses")]


def check_runtime(cluster: Cluster, host: Host, facts: HostFacts) -> list[Finding]:
    if not facts.runtimes:
        return [ok(host.name, "runtime", "runtime.fresh", "no kubelet or container runtime")]
    found = ", ".join(f"{name} ({state})" for name, state in sorted(facts.runtimes.items()))
    return [warning(host.name, "runtime", "runtime.fresh",
                    f"already installed: {found}",
                    "a fresh host is expected: reset a previous install (Kubespray reset.yml) "
                    "or remove the packages, unless this host already belongs to this cluster")]
