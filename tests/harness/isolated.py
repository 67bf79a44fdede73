"""Isolated test hosts: a root of their own that real Kubespray may change.

An isolated host boots, in its own mount, UTS and PID namespaces, as::

    tmpfs (HOSTDIR/layer)  -> upper + work dirs
    overlayfs lower=/ upper=tmpfs  mounted on HOSTDIR/rootfs, then chroot into it
    /proc (own PID namespace), /proc/sys and /sys read-only, /dev bound, /run a fresh tmpfs
    HOSTDIR bound at its own path (sshd config, keys, stand-ins and call records stay shared)
    capabilities sys_module, net_admin, sys_time, sys_boot dropped from the bounding set

Everything the host writes (``/etc``, ``/usr``, ``/var``, packages) lands in its tmpfs and is
gone when it stops; the real root never changes. PID 1 is a small ``sh`` (named like an init,
so Ansible's service manager detection looks further) that starts sshd and reaps children.
What such a host lacks (systemd as PID 1, D-Bus, a kernel of its own to tune) is stood in
for by recording ``systemctl``, ``hostnamectl`` and ``sysctl`` scripts placed in the host's
own ``/usr/local/sbin`` (first on PATH and sudo's secure_path), plus the
``/run/systemd/system`` directory by which tools tell that systemd runs.
"""

from __future__ import annotations

import os
import shlex
import shutil
from pathlib import Path

from .hostfiles import HostLayout
from .profiles import HostProfile
from .support import tool_path

DROPPED_CAPABILITIES = ("sys_module", "net_admin", "sys_time", "sys_boot")
SYSTEM_STAND_INS = ("systemctl", "hostnamectl", "sysctl")
STAND_IN_DIR = "/usr/local/sbin"  # first on PATH and on sudo's secure_path
LAYER_SIZE = "6g"  # tmpfs upper layer; real package installs need a few hundred MB
ISOLATION_TOOLS = ("chroot", "setpriv", "unshare", "mount")


def missing_isolation() -> str | None:
    """Why this machine cannot boot isolated hosts, or ``None``."""
    for tool in ISOLATION_TOOLS:
        if shutil.which(tool, path="/usr/sbin:/usr/bin:/sbin:/bin") is None:
            return f"{tool} not found (util-linux / coreutils)"
    try:
        filesystems = Path("/proc/filesystems").read_text(encoding="ascii")
    except OSError as error:
        return f"cannot read /proc/filesystems: {error}"
    if "\toverlay\n" not in filesystems:
        return "the kernel has no overlayfs (modprobe overlay)"
    return None


def rootfs_dir(layout: HostLayout) -> Path:
    return layout.root / "rootfs"


def layer_dir(layout: HostLayout) -> Path:
    return layout.root / "layer"


def system_stand_ins_dir(layout: HostLayout) -> Path:
    return layout.root / "system-stand-ins"


def _mount_script(layout: HostLayout) -> list[str]:
    root, layer, host = rootfs_dir(layout), layer_dir(layout), layout.root
    q = shlex.quote
    return [
        f"mkdir -p {q(str(root))} {q(str(layer))}",
        f"mount -t tmpfs -o size={LAYER_SIZE},mode=755 deepctl-test-host {q(str(layer))}",
        f"mkdir {q(str(layer / 'upper'))} {q(str(layer / 'work'))}",
        f"mount -t overlay overlay -o lowerdir=/,upperdir={q(str(layer / 'upper'))},"
        f"workdir={q(str(layer / 'work'))} {q(str(root))}",
        f"R={q(str(root))}",
        'mount -t proc proc "$R/proc"',
        'mount --bind "$R/proc/sys" "$R/proc/sys"',
        'mount -o remount,bind,ro "$R/proc/sys"',
        'mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$R/sys"',
        'mount --rbind /dev "$R/dev"',
        'mount -t tmpfs -o mode=755,nosuid,nodev deepctl-test-run "$R/run"',
        'mkdir -p "$R/run/sshd" "$R/run/systemd/system" "$R/run/lock"',
        f'mount --bind {q(str(host))} "$R"{q(str(host))}',
    ]


def _identity_script(layout: HostLayout, profile: HostProfile) -> list[str]:
    etc = layout.etc_dir
    q = shlex.quote
    # /etc is copied up first: files only in the lower (ext4) layer carry attributes such as
    # "e" that tmpfs cannot take, and Ansible's backup copies (backup: true) keep attributes.
    lines = ['cp -a /etc/. "$R/etc/"']
    copied = ("machine-id", "hostname", "hosts", "sudoers")  # copies: Kubespray may rewrite them
    lines += [f'cp {q(str(etc / name))} "$R/etc/{name}"' for name in copied]
    if os.path.isfile("/var/lib/dbus/machine-id") and not os.path.islink("/var/lib/dbus/machine-id"):
        lines.append(f'cp {q(str(etc / "machine-id"))} "$R/var/lib/dbus/machine-id"')
    lines.append(f"hostname {q(profile.name)}")
    stand_ins = system_stand_ins_dir(layout)
    for tool in SYSTEM_STAND_INS:
        lines.append(f'cp {q(str(stand_ins / tool))} "$R{STAND_IN_DIR}/{tool}"')
    return lines


def boot_command(layout: HostLayout, profile: HostProfile, sshd: str) -> list[str]:
    """``unshare --mount --uts --pid --fork sh -c '<mounts>; exec chroot ... setpriv ... sh'``."""
    q = shlex.quote
    drop = ",".join(f"-{cap}" for cap in DROPPED_CAPABILITIES)
    init = (
        f"{q(sshd)} -D -e -f {q(str(layout.sshd_config))} & child=$!; "
        'trap "kill $child 2>/dev/null; exit 0" TERM INT; '
        "while kill -0 $child 2>/dev/null; do wait; done"
    )
    script = [
        "set -e",
        *_mount_script(layout),
        *_identity_script(layout, profile),
        f'exec chroot "$R" {q(tool_path("setpriv"))} --bounding-set {drop} --inh-caps {drop} '
        f"/bin/sh -c {q(init)}",
    ]
    return [tool_path("unshare"), "--mount", "--uts", "--pid", "--fork", "--kill-child",
            "--propagation", "private", "sh", "-c", "\n".join(script)]  # fmt: skip
