"""The files that make up one test host's directory, and the command that boots it.

Layout of ``HOSTDIR``::

    ssh_host_ed25519_key{,.pub}  authorized_keys  sshd_config  sshd.pid  sshd.log
    home/       root's $HOME on this host (sshd SetEnv; the cwd stays /root)
    etc/        machine-id os-release hostname hosts sudoers  (bind-mounted over /etc/...)
                standin-pid1-comm  ("systemd", bind-mounted over /proc/1/comm: see below)
    bin/        stand-in tools, first on the host's PATH (nvidia-smi, lspci)
    kube-bin/   kubectl, helm, state.json (Kubespray's bin_dir; not on PATH)
    gpu/        the host's copy of its GPU profile data
    calls/      <tool>.jsonl call records
"""

from __future__ import annotations

import os
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .profiles import HostProfile, random_machine_id
from .support import SYSTEM_PATH, openssh_version, tool_path


@dataclass(frozen=True)
class HostLayout:
    root: Path

    @property
    def bin_dir(self) -> Path:
        return self.root / "bin"

    @property
    def kube_bin_dir(self) -> Path:
        return self.root / "kube-bin"

    @property
    def calls_dir(self) -> Path:
        return self.root / "calls"

    @property
    def gpu_dir(self) -> Path:
        return self.root / "gpu"

    @property
    def home_dir(self) -> Path:
        return self.root / "home"

    @property
    def etc_dir(self) -> Path:
        return self.root / "etc"

    @property
    def host_key(self) -> Path:
        return self.root / "ssh_host_ed25519_key"

    @property
    def authorized_keys(self) -> Path:
        return self.root / "authorized_keys"

    @property
    def sshd_config(self) -> Path:
        return self.root / "sshd_config"

    @property
    def pid_file(self) -> Path:
        return self.root / "sshd.pid"

    @property
    def log_file(self) -> Path:
        return self.root / "sshd.log"


def generate_ed25519_key(path: Path, comment: str) -> None:
    subprocess.run(
        [tool_path("ssh-keygen"), "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
        check=True,
        stdin=subprocess.DEVNULL,
    )
    path.chmod(0o600)


def write_identity_files(layout: HostLayout, profile: HostProfile, address: str) -> None:
    """The files bound over the real /etc inside the host's mount namespace."""
    layout.home_dir.mkdir(mode=0o700)
    etc = layout.etc_dir
    etc.mkdir()
    machine_id = profile.machine_id or random_machine_id()
    (etc / "machine-id").write_text(machine_id + "\n", encoding="ascii")
    (etc / "os-release").write_text(profile.os_release_file.read_text(encoding="utf-8"))
    (etc / "hostname").write_text(profile.name + "\n", encoding="ascii")
    # A stand-in for systemd as PID 1: Ansible (ansible_service_mgr) and preflight read
    # /proc/1/comm. Write another name into this file to make the host a non-systemd one.
    (etc / "standin-pid1-comm").write_text("systemd\n", encoding="ascii")
    (etc / "hosts").write_text(
        f"127.0.0.1\tlocalhost\n{address}\t{profile.name}\n\n"
        "::1\tlocalhost ip6-localhost ip6-loopback\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n",
        encoding="ascii",
    )
    secure_path = f"{layout.bin_dir}:{SYSTEM_PATH}"
    sudoers = [
        "# deepctl test harness: per-host sudoers (bind-mounted over /etc/sudoers)",
        "Defaults\tenv_reset",
        f'Defaults\tsecure_path="{secure_path}"',
    ]
    if profile.sudo_works:
        sudoers.append("root\tALL=(ALL:ALL) ALL")
    else:
        sudoers.append("# 'sudo broken' host: no rule grants root anything, so sudo refuses")
    sudoers_file = etc / "sudoers"
    sudoers_file.write_text("\n".join(sudoers) + "\n", encoding="ascii")
    sudoers_file.chmod(0o440)


def session_environment(layout: HostLayout, profile: HostProfile) -> dict[str, str]:
    # HOME is per host: ~/.ansible, ~/.kube ... stay on their machine, and the
    # runner's own /root dotfiles (which may rewrite PATH) are not sourced.
    env = {"HOME": str(layout.home_dir), "PATH": f"{layout.bin_dir}:{SYSTEM_PATH}"}
    env.update(profile.env)
    return env


def write_sshd_config(layout: HostLayout, profile: HostProfile, address: str, port: int) -> None:
    set_env = " ".join(f'"{k}={v}"' for k, v in session_environment(layout, profile).items())
    lines = [
        "# deepctl test harness: one stand-in machine",
        f"ListenAddress {address}:{port}",
        f"HostKey {layout.host_key}",
        f"PidFile {layout.pid_file}",
        f"AuthorizedKeysFile {layout.authorized_keys}",
        "StrictModes no",
        "PermitRootLogin prohibit-password",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "UseDNS no",
        "PrintMotd no",
        "PrintLastLog no",
        "X11Forwarding no",
        f"AllowTcpForwarding {'yes' if profile.tcp_forwarding else 'no'}",
        "MaxStartups 200",
        "MaxSessions 64",
        "LoginGraceTime 30",
        "Subsystem sftp internal-sftp",
        f"SetEnv {set_env}",
    ]
    if openssh_version() >= (9, 8):
        lines.append("PerSourcePenalties no")  # probes and failed logins from 127.0.0.1 are expected
    layout.sshd_config.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _bind_targets(layout: HostLayout) -> list[tuple[Path, str]]:
    etc = layout.etc_dir
    wanted = [
        (etc / "machine-id", "/etc/machine-id"),
        (etc / "os-release", "/etc/os-release"),
        (etc / "hostname", "/etc/hostname"),
        (etc / "hosts", "/etc/hosts"),
        (etc / "sudoers", "/etc/sudoers"),
        (etc / "standin-pid1-comm", "/proc/1/comm"),
    ]
    dbus_id = "/var/lib/dbus/machine-id"
    if os.path.isfile(dbus_id) and not os.path.islink(dbus_id):
        wanted.append((etc / "machine-id", dbus_id))
    return [(source, target) for source, target in wanted if os.path.exists(target)]


def boot_command(layout: HostLayout, profile: HostProfile, sshd: str) -> list[str]:
    """``unshare ... sh -c 'hostname; mount --bind ...; exec sshd -D'`` for this host.

    ``unshare`` and ``sh`` exec, so the started process *is* the sshd listener.
    """
    script = ["set -e", f"hostname {shlex.quote(profile.name)}"]
    for source, target in _bind_targets(layout):
        script.append(f"mount --bind {shlex.quote(str(source))} {shlex.quote(target)}")
    script.append(f"exec {shlex.quote(sshd)} -D -e -f {shlex.quote(str(layout.sshd_config))}")
    unshare = tool_path("unshare")
    return [unshare, "--mount", "--uts", "--propagation", "private", "sh", "-c", "\n".join(script)]
