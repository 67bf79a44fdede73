"""Which service manager Ansible will report for a host (``ansible_service_mgr``). Pure.

Kubespray stops unless it is ``systemd`` ("Stop if non systemd OS type"). The facts script
probes what Ansible's ``ServiceMgrFactCollector`` (ansible-core 2.18,
``module_utils/facts/system/service_mgr.py``) looks at on Linux, and :func:`service_manager`
draws the same conclusion from it, so that preflight and Kubespray agree on every host.
"""

from __future__ import annotations

from pathlib import PurePosixPath

# The facts script's ``init`` section: one probe per line (see deepctl.preflight.script).
PROBE_SCRIPT = r"""
p1=$(cat /proc/1/comm 2>/dev/null || ps -p 1 -o comm= 2>/dev/null); printf 'pid1 %s\n' "$p1"
command -v systemctl >/dev/null 2>&1 && echo systemctl
for c in /run/systemd/system/ /dev/.run/systemd/ /dev/.systemd/; do
  [ -e "$c" ] && echo "canary $c"; done
[ -L /sbin/init ] && printf 'sbin_init %s\n' "$(readlink /sbin/init)"
command -v initctl >/dev/null 2>&1 && [ -e /etc/init/ ] && echo upstart
[ -e /sbin/openrc ] && echo openrc
[ -e /etc/init.d/ ] && echo init.d
[ -e /etc/dinit.d/ ] && echo dinit.d
:
"""

# Ansible's names for some PID 1 programs.
_PID1_NAMES = {"procd": "openwrt_init", "runit-init": "runit", "svscan": "svc",
               "openrc-init": "openrc"}


def parse_probe(text: str) -> dict[str, str]:
    """``pid1 systemd`` / ``systemctl`` / ``canary /run/systemd/system/`` ... -> a dict."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        key, _, value = line.strip().partition(" ")
        if key:
            found[key] = value.strip()
    return found


def service_manager(probe: dict[str, str]) -> str:
    """``ansible_service_mgr`` for a Linux host, from :func:`parse_probe`'s result."""
    pid1: str | None = probe.get("pid1") or None
    if pid1 is None and probe.get("sbin_init"):
        pid1 = probe["sbin_init"]
    if pid1 is not None:
        pid1 = PurePosixPath(pid1.strip()).name
        if pid1 == "init" or pid1.endswith("sh") or not pid1:
            pid1 = None  # "init" or a shell (a container): not to be trusted
    if pid1 is not None:
        return _PID1_NAMES.get(pid1, pid1)
    systemctl = "systemctl" in probe
    if systemctl and "canary" in probe:
        return "systemd"
    if "upstart" in probe:
        return "upstart"
    if "openrc" in probe:
        return "openrc"
    if systemctl and PurePosixPath(probe.get("sbin_init", "")).name == "systemd":
        return "systemd"
    if "init.d" in probe:
        return "sysvinit"
    if "dinit.d" in probe:
        return "dinit"
    return "service"
