"""Storage checks: the Ceph devices a host lists exist and are empty (pure).

With ``addons.storage.ceph`` on, the facts script describes each ``hosts[].cephDevices`` entry
with ``lsblk -J -b -o NAME,PATH,SIZE,TYPE,FSTYPE,MOUNTPOINT`` (:attr:`HostFacts.block_devices`).
Rook only turns a device into an OSD when it is a disk or partition with no filesystem or
other signature, no mount and no partitions; anything else is skipped silently by Rook, so
preflight says so before the deploy.
"""

from __future__ import annotations

from typing import Any

from deepctl.clusterspec.models import Cluster, Host
from deepctl.preflight.model import Finding, HostFacts, error, ok, warning

RAW_TYPES = ("disk", "part")
CHECK = "resources.ceph-device"


def devices_to_check(cluster: Cluster, host: Host) -> list[str]:
    """The block devices the facts script describes on ``host`` (its Ceph devices, if Ceph is on)."""
    return list(host.ceph_devices) if cluster.spec.addons.storage.ceph.enabled else []


def _size(value: Any) -> str:
    try:
        size = int(value)
    except (TypeError, ValueError):
        return "size unknown"
    for unit, scale in (("TB", 10**12), ("GB", 10**9), ("MB", 10**6)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"


def device_problems(device: dict[str, Any]) -> list[str]:
    """Why Rook would not use the device ``lsblk`` described ([] when it would)."""
    problems = []
    kind = device.get("type")
    if kind not in RAW_TYPES:
        problems.append(f"is a {kind}, not a disk or partition")
    if device.get("fstype"):
        problems.append(f"holds a {device['fstype']} signature")
    if device.get("mountpoint"):
        problems.append(f"is mounted on {device['mountpoint']}")
    children = [str(c.get("name")) for c in device.get("children") or [] if isinstance(c, dict)]
    if children:
        problems.append(f"has partitions ({', '.join(children)})")
    return problems


def check_device(host: str, path: str, info: dict[str, Any] | None) -> Finding:
    """One Ceph device of ``host`` judged from its ``lsblk`` description."""
    if info is None:
        return warning(host, "resources", CHECK, f"{path}: not examined",
                       "run preflight again with this deepctl")
    if info.get("rc") is None:
        return warning(host, "resources", CHECK,
                       f"{path}: cannot check, lsblk is not installed on the host",
                       "install util-linux, or check by hand that the device is empty")
    device = info.get("device")
    if info.get("rc") != 0 or not isinstance(device, dict):
        lines = str(info.get("output") or "").strip().splitlines() or ["no output"]
        said = next((line for line in lines if line.startswith("lsblk")), lines[0])
        return error(host, "resources", CHECK,
                     f"{path} does not exist or is not a block device ({said[:160]})",
                     "list the host's devices with `lsblk`; /dev/disk/by-id/ paths do not change "
                     "across reboots")
    problems = device_problems(device)
    if problems:
        return error(host, "resources", CHECK,
                     f"{path} {', '.join(problems)}: Rook only uses empty devices",
                     f"pick an empty device, or, if its data is not needed, wipe it "
                     f"(`wipefs --all {path}`; `sgdisk --zap-all {path}` for a partition "
                     "table) — this destroys the data on it")
    resolved = device.get("path") or path
    alias = f" ({resolved})" if resolved != path else ""
    return ok(host, "resources", CHECK,
              f"{path}{alias}: {device.get('type')}, {_size(device.get('size'))}, empty")


def check_ceph_devices(cluster: Cluster, host: Host, facts: HostFacts) -> list[Finding]:
    """Each Ceph device the spec lists for ``host`` exists, is a disk/partition and is empty."""
    return [check_device(host.name, path, facts.block_devices.get(path))
            for path in devices_to_check(cluster, host)]
