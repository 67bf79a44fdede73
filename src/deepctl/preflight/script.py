"""The facts script (one ``sh -s`` per host, over one SSH exec) and its parser. Both pure.

The script prints sections ``@@NAME`` followed by raw command output; a command's exit
status, where it matters, follows on a line ``@rc N``. Every probe is bounded by
``timeout`` (when the host has it) so one hung tool cannot stall the whole host.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Sequence
from ipaddress import ip_address
from typing import Any

from deepctl.preflight import init_system
from deepctl.preflight.model import Gpu, HostFacts
from deepctl.preflight.offline import parse_probes

GPU_QUERY = "index,name,uuid,memory.total,driver_version,mig.mode.current"
RUNTIMES = ("kubelet", "containerd", "crio")

_BODY = r"""
export LC_ALL=C
PATH="$PATH:/usr/local/bin:/usr/sbin:/sbin:/usr/bin:/bin"
sec() { printf '\n@@%s\n' "$1"; }
rc() { printf '\n@rc %s\n' "$1"; }
t() { if command -v timeout >/dev/null 2>&1; then timeout "$@"; else shift; "$@"; fi; }
sec hostname; hostname 2>/dev/null || cat /proc/sys/kernel/hostname
sec machine_id; cat /etc/machine-id 2>/dev/null
sec product_uuid; cat /sys/class/dmi/id/product_uuid 2>/dev/null
sec os_release; cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null
sec arch; uname -m
sec kernel; uname -r
sec nproc; nproc 2>/dev/null || getconf _NPROCESSORS_ONLN
sec meminfo; grep -E '^(MemTotal|SwapTotal):' /proc/meminfo
sec disk; for m in / /var; do df -Pk "$m" 2>/dev/null | tail -n 1 | sed "s|^|$m |"; done
sec date; date +%s
sec listen
if command -v ss >/dev/null 2>&1; then ss -ltnH 2>/dev/null | awk '{print $4}'
else cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '$4 == "0A" {print "hex:" $2}'; fi
sec addrs
if command -v ip >/dev/null 2>&1; then ip -o addr show 2>/dev/null | awk '{print $4}'
else hostname -I 2>/dev/null | tr ' ' '\n'; fi
sec route; ip -o route get "$INTERNAL" 2>/dev/null | head -n 1
sec nvidia_smi
if command -v nvidia-smi >/dev/null 2>&1; then
  t 15 nvidia-smi --query-gpu=GPU_QUERY --format=csv,noheader 2>&1; rc $?
else rc absent; fi
sec lspci; t 10 lspci -nn -d 10de: 2>/dev/null
sec runtimes
for b in RUNTIMES; do
  s=""; command -v "$b" >/dev/null 2>&1 && s=installed
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$b" 2>/dev/null; then
    s=active; fi
  [ -n "$s" ] && echo "$b $s"
done
sec sudo
if [ "$BECOME" = 1 ]; then t 10 sudo -n true 2>&1 </dev/null; rc $?; else rc skipped; fi
sec peer
if [ -n "$PEER" ]; then
  if command -v bash >/dev/null 2>&1; then
    t 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$PEER" "$PEER_PORT" 2>/dev/null; rc $?
  elif command -v python3 >/dev/null 2>&1; then
    t 4 python3 -c 'import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 3)' \
      "$PEER" "$PEER_PORT" 2>/dev/null; rc $?
  else rc unknown; fi
fi
sec init
INIT_PROBE
sec cgroup; stat -fc %T /sys/fs/cgroup/ 2>&1; rc $?
sec ping; command -v ping 2>/dev/null
sec resolv
if [ -e /etc/resolv.conf ]; then grep -E '^nameserver' /etc/resolv.conf 2>/dev/null; rc 0
else rc absent; fi
sec block_devices
for d in "$@"; do
  printf '@dev %s\n' "$d"
  if command -v lsblk >/dev/null 2>&1; then
    t 10 lsblk -J -b -o NAME,PATH,SIZE,TYPE,FSTYPE,MOUNTPOINT "$d" 2>&1; rc $?
  else rc absent; fi
done
sec end
"""


def build_script(internal_address: str, peer: tuple[str, int] | None, become: bool,
                 devices: Sequence[str] = (), extra: str = "") -> str:
    """The facts script for one host (all values quoted; nothing secret in it).

    ``devices``: block devices to describe with ``lsblk`` (the host's Ceph devices).
    """
    peer_host, peer_port = peer if peer else ("", 0)
    head = (
        f"INTERNAL={shlex.quote(internal_address)}\n"
        f"PEER={shlex.quote(peer_host)}\nPEER_PORT={int(peer_port)}\n"
        f"BECOME={1 if become else 0}\n"
        f"set -- {' '.join(shlex.quote(d) for d in devices)}\n"
    )
    body = (_BODY.replace("GPU_QUERY", GPU_QUERY).replace("RUNTIMES", " ".join(RUNTIMES))
            .replace("INIT_PROBE", init_system.PROBE_SCRIPT.strip()))
    if extra:  # more probes (spec.offline's mirrors), before the end marker
        body = body.replace("\nsec end\n", "\n" + extra.strip("\n") + "\nsec end\n")
    return head + body


def split_sections(text: str) -> dict[str, str]:
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("@@"):
            current = sections.setdefault(line[2:].strip(), [])
        elif current is not None:
            current.append(line)
    return {name: "\n".join(lines).strip("\n") for name, lines in sections.items()}


def _take_rc(body: str) -> tuple[str, str | None]:
    """Split ``body`` into (output, the value of its last ``@rc`` line)."""
    lines = body.splitlines()
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].startswith("@rc "):
            return "\n".join(lines[:i]).strip(), lines[i][4:].strip()
    return body.strip(), None


def _int(value: str) -> int | None:
    try:
        return int(value.strip())
    except ValueError:
        return None


def parse_os_release(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() and not key.startswith("#"):
            try:
                parts = shlex.split(value)
            except ValueError:
                parts = [value.strip().strip('"')]
            out[key.strip()] = parts[0] if parts else ""
    return out


def parse_meminfo(text: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        number = _int(rest.replace("kB", ""))
        if number is not None:
            out[key.strip()] = number // 1024  # kB -> MB (MiB, as Ansible's memtotal_mb)
    return out


def parse_disks(text: str) -> dict[str, int]:
    """``MOUNT FS 1024-blocks Used Available Capacity Mounted-on`` -> {mount: free MB}."""
    out: dict[str, int] = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 5 and (avail := _int(fields[4])) is not None:
            out[fields[0]] = avail // 1024
    return out


def parse_listen(text: str) -> list[int]:
    ports: set[int] = set()
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("hex:"):  # /proc/net/tcp local_address "0100007F:1F90"
            port = line.rsplit(":", 1)[-1]
            try:
                ports.add(int(port, 16))
            except ValueError:
                continue
        elif ":" in line and (port_number := _int(line.rsplit(":", 1)[-1])) is not None:
            ports.add(port_number)
    return sorted(ports)


def parse_addresses(text: str) -> list[str]:
    return [line.strip().split("/", 1)[0] for line in text.splitlines() if line.strip()]


def parse_gpus(text: str) -> list[Gpu]:
    gpus = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) != 6 or _int(parts[0]) is None:
            continue
        memory = _int(parts[3].split()[0]) if parts[3] else None
        gpus.append(Gpu(int(parts[0]), parts[1], parts[2], memory, parts[4], parts[5]))
    return gpus


def parse_runtimes(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        name, _, state = line.strip().partition(" ")
        if name in RUNTIMES and state:
            out[name] = state
    return out


def parse_block_devices(text: str) -> dict[str, dict[str, Any]]:
    """``@dev PATH`` + ``lsblk -J`` output + ``@rc N`` per device -> {path: description}."""
    chunks: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("@dev "):
            current = chunks.setdefault(line[5:].strip(), [])
        elif current is not None:
            current.append(line)
    out: dict[str, dict[str, Any]] = {}
    for path, lines in chunks.items():
        output, rc = _take_rc("\n".join(lines))
        device = None
        if rc == "0":
            try:
                found = json.loads(output).get("blockdevices") or [None]
                device = found[0] if isinstance(found[0], dict) else None
            except (ValueError, AttributeError):
                device = None
        out[path] = {"rc": None if rc in (None, "absent") else _int(rc or ""),
                     "output": output[:2000], "device": device}
    return out


NAMESERVER = re.compile(r"^nameserver\s*(\S*)", re.MULTILINE)  # Kubespray's own pattern


def parse_nameservers(body: str) -> list[str] | None:
    """The valid IP addresses of ``nameserver`` lines (``None``: no /etc/resolv.conf)."""
    text, rc = _take_rc(body)
    if rc != "0":
        return None
    out = []
    for value in NAMESERVER.findall(text):
        try:
            out.append(str(ip_address(value)))
        except ValueError:
            continue  # Kubespray keeps only addresses (ansible.utils.ipaddr)
    return out


def parse_output(
    text: str, *, internal_address: str, peer: tuple[str, int] | None, local_time: float | None
) -> HostFacts:
    """Turn the facts script's output into :class:`HostFacts`."""
    s = split_sections(text)
    mem = parse_meminfo(s.get("meminfo", ""))
    smi_out, smi_rc = _take_rc(s.get("nvidia_smi", ""))
    sudo_out, sudo_rc = _take_rc(s.get("sudo", ""))
    _, peer_rc = _take_rc(s.get("peer", ""))
    route = s.get("route", "").strip()
    probe = init_system.parse_probe(s.get("init", ""))
    cgroup, cgroup_rc = _take_rc(s.get("cgroup", ""))
    return HostFacts(
        hostname=s.get("hostname", "").strip(),
        machine_id=s.get("machine_id", "").strip(),
        product_uuid=s.get("product_uuid", "").strip().lower() or None,
        os_release=parse_os_release(s.get("os_release", "")),
        arch=s.get("arch", "").strip(),
        kernel=s.get("kernel", "").strip(),
        cpus=_int(s.get("nproc", "")),
        mem_mb=mem.get("MemTotal"),
        swap_mb=mem.get("SwapTotal"),
        disk_free_mb=parse_disks(s.get("disk", "")),
        remote_time=_int(s.get("date", "")),
        local_time=local_time,
        listening_ports=parse_listen(s.get("listen", "")),
        addresses=parse_addresses(s.get("addrs", "")),
        internal_address=internal_address,
        internal_address_local=route.startswith("local ") if route else None,
        nvidia_smi_rc=None if smi_rc in (None, "absent") else _int(smi_rc or ""),
        nvidia_smi_output=smi_out[:2000],
        gpus=parse_gpus(smi_out) if smi_rc == "0" else [],
        pci_gpus=[line for line in s.get("lspci", "").splitlines() if line.strip()],
        runtimes=parse_runtimes(s.get("runtimes", "")),
        sudo_rc=None if sudo_rc in (None, "skipped") else _int(sudo_rc or ""),
        sudo_output=sudo_out[:500],
        peer=f"{peer[0]}:{peer[1]}" if peer else None,
        peer_reachable=None if peer is None or peer_rc in (None, "unknown") else peer_rc == "0",
        block_devices=parse_block_devices(s.get("block_devices", "")),
        offline=parse_probes(s),
        service_mgr=init_system.service_manager(probe) if "init" in s else "",
        init_probe=probe,
        cgroup_fs=cgroup.strip() if cgroup_rc == "0" else None,
        cgroup_error=None if cgroup_rc in ("0", None) else cgroup.strip()[:300],
        nameservers=parse_nameservers(s["resolv"]) if "resolv" in s else None,
        ping=(s["ping"].strip() or None) if "ping" in s else "",
    )
