"""Which operating systems Kubespray v2.31.0 supports (its README and the
``supported_os_distributions`` list its preinstall role asserts against). Pure data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Support = Literal["supported", "experimental", "untested-version", "rejected", "unknown"]


@dataclass(frozen=True)
class Distro:
    ansible_name: str  # ansible_distribution, as Kubespray's assert sees it
    versions: tuple[str, ...]  # documented major versions; () = any
    experimental: bool = False


# os-release ID -> what Kubespray v2.31.0 says about it (README "Supported Linux Distributions").
DISTROS: dict[str, Distro] = {
    "ubuntu": Distro("Ubuntu", ("22.04", "24.04")),
    "debian": Distro("Debian", ("11", "12", "13")),
    "rhel": Distro("RedHat", ("9", "10")),
    "centos": Distro("CentOS", ("9", "10")),
    "rocky": Distro("Rocky", ("9", "10")),
    "almalinux": Distro("AlmaLinux", ("9", "10")),
    "ol": Distro("OracleLinux", ("9", "10")),
    "fedora": Distro("Fedora", ("39", "40", "41", "42")),
    "opensuse-leap": Distro("openSUSE Leap", ("15",)),
    "opensuse-tumbleweed": Distro("openSUSE Tumbleweed", ()),
    "flatcar": Distro("Flatcar", ()),
    "amzn": Distro("Amazon", ("2", "2023"), experimental=True),
    "kylin": Distro("Kylin Linux Advanced Server", (), experimental=True),
    "uos": Distro("UnionTech", (), experimental=True),
    "openEuler": Distro("openEuler", (), experimental=True),
}
_MAJOR_ONLY = {"debian", "rhel", "centos", "rocky", "almalinux", "ol", "fedora", "opensuse-leap",
               "amzn"}

SUPPORTED_ARCHS = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64", "armv7l": "arm"}


def classify(os_release: dict[str, str]) -> tuple[Support, str]:
    """(support level, a human name such as ``Ubuntu 24.04``) for one host's os-release."""
    os_id = os_release.get("ID", "")
    version = os_release.get("VERSION_ID", "")
    pretty = os_release.get("PRETTY_NAME") or f"{os_release.get('NAME', os_id)} {version}".strip()
    if not os_id:
        return "unknown", pretty or "unknown OS (no /etc/os-release)"
    distro = DISTROS.get(os_id)
    if distro is None:
        return "rejected", pretty
    wanted = version.split(".")[0] if os_id in _MAJOR_ONLY else version
    if distro.versions and wanted not in distro.versions:
        return "untested-version", pretty
    return ("experimental" if distro.experimental else "supported"), pretty


def documented_versions(os_id: str) -> str:
    distro = DISTROS.get(os_id)
    if distro is None or not distro.versions:
        return "any"
    return ", ".join(distro.versions)
