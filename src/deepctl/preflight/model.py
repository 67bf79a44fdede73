"""What preflight gathers (:class:`HostFacts`) and what it concludes (:class:`Finding`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Status = Literal["ok", "warning", "error"]
STATUS_ORDER: dict[str, int] = {"ok": 0, "warning": 1, "error": 2}

# Check groups, in table-column order.
GROUPS: tuple[str, ...] = (
    "ssh", "os", "resources", "identity", "clock", "ports", "network", "gpu", "runtime"
)


@dataclass(frozen=True)
class Finding:
    """One conclusion about one host: ``check`` is a stable id such as ``os.supported``."""

    host: str
    group: str
    check: str
    status: Status
    message: str
    hint: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def ok(host: str, group: str, check: str, message: str) -> Finding:
    return Finding(host, group, check, "ok", message)


def warning(host: str, group: str, check: str, message: str, hint: str) -> Finding:
    return Finding(host, group, check, "warning", message, hint)


def error(host: str, group: str, check: str, message: str, hint: str) -> Finding:
    return Finding(host, group, check, "error", message, hint)


@dataclass(frozen=True)
class Gpu:
    """One row of ``nvidia-smi --query-gpu=index,name,uuid,memory.total,driver_version,...``."""

    index: int
    name: str
    uuid: str
    memory_mib: int | None
    driver_version: str
    mig_mode: str  # "Enabled" | "Disabled" | "[N/A]"


@dataclass
class HostFacts:
    """Everything one run of the facts script found on one host. ``None``: not found out."""

    hostname: str = ""
    machine_id: str = ""
    product_uuid: str | None = None
    os_release: dict[str, str] = field(default_factory=dict)
    arch: str = ""
    kernel: str = ""
    cpus: int | None = None
    mem_mb: int | None = None
    swap_mb: int | None = None
    disk_free_mb: dict[str, int] = field(default_factory=dict)  # mount point -> free MB
    remote_time: int | None = None  # host's `date +%s`
    local_time: float | None = None  # our clock, midway through the exec
    listening_ports: list[int] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    internal_address: str = ""
    internal_address_local: bool | None = None  # `ip route get` says "local"
    nvidia_smi_rc: int | None = None  # None: nvidia-smi not installed
    nvidia_smi_output: str = ""
    gpus: list[Gpu] = field(default_factory=list)
    pci_gpus: list[str] = field(default_factory=list)  # `lspci -nn -d 10de:` lines
    runtimes: dict[str, str] = field(default_factory=dict)  # kubelet/containerd/crio -> state
    sudo_rc: int | None = None  # None: not checked (become: false)
    sudo_output: str = ""
    peer: str | None = None  # "address:port" probed from this host
    peer_reachable: bool | None = None
    # Ceph devices the spec lists, by spec path: {"rc": lsblk's exit status (None: no lsblk),
    # "output": its text, "device": its first ``blockdevices`` entry or None}
    block_devices: dict[str, dict[str, Any]] = field(default_factory=dict)
    # spec.offline probes: {"files"|"registry": {"url": ..., "result": "status 200" | "error ..."}}
    offline: dict[str, dict[str, Any]] = field(default_factory=dict)
    # What Kubespray's preinstall asserts look at (deepctl.preflight.kubespray_asserts):
    service_mgr: str = ""  # ansible_service_mgr as Ansible will find it ("": not probed)
    init_probe: dict[str, str] = field(default_factory=dict)  # what service_mgr comes from
    cgroup_fs: str | None = None  # `stat -fc %T /sys/fs/cgroup/`: cgroup2fs, tmpfs (v1)
    cgroup_error: str | None = None  # what that stat said when it failed
    nameservers: list[str] | None = None  # resolv.conf's nameserver IPs (None: no file)
    ping: str | None = ""  # the path of `ping` (None: not installed; "": not probed)

    @property
    def clock_offset(self) -> float | None:
        if self.remote_time is None or self.local_time is None:
            return None
        return self.remote_time - self.local_time

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HostFacts:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["gpus"] = [Gpu(**g) for g in known.get("gpus", [])]
        return cls(**known)


@dataclass
class HostResult:
    """One host's outcome: its facts (when they could be gathered) and its findings."""

    name: str
    address: str
    facts: HostFacts | None = None
    findings: list[Finding] = field(default_factory=list)
    facts_file: str | None = None
    seconds: float = 0.0

    @property
    def status(self) -> Status:
        return worst(self.findings)

    def group_status(self, group: str) -> Status | None:
        found = [f for f in self.findings if f.group == group]
        return worst(found) if found else None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "address": self.address,
            "status": self.status,
            "seconds": round(self.seconds, 3),
            "factsFile": self.facts_file,
            "findings": [f.to_json() for f in self.findings],
        }


def worst(findings: list[Finding]) -> Status:
    status: Status = "ok"
    for finding in findings:
        if STATUS_ORDER[finding.status] > STATUS_ORDER[status]:
            status = finding.status
    return status


@dataclass
class PreflightReport:
    """The result of :func:`deepctl.preflight.run_preflight`, one :class:`HostResult` per host."""

    cluster: str
    hosts: list[HostResult]
    new_host_keys: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def findings(self) -> list[Finding]:
        return [f for host in self.hosts for f in host.findings]

    @property
    def has_errors(self) -> bool:
        return any(f.status == "error" for f in self.findings)

    @property
    def has_warnings(self) -> bool:
        return any(f.status == "warning" for f in self.findings)

    @property
    def status(self) -> Status:
        return worst(self.findings)

    def host(self, name: str) -> HostResult | None:
        return next((h for h in self.hosts if h.name == name), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster,
            "status": self.status,
            "seconds": round(self.seconds, 3),
            "newHostKeys": self.new_host_keys,
            "hosts": [h.to_json() for h in self.hosts],
            "counts": {
                s: sum(1 for f in self.findings if f.status == s) for s in ("ok", "warning", "error")
            },
        }
