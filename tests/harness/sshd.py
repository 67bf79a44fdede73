"""One test host: a real ``sshd -D`` in its own mount + UTS namespace on a loopback address."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .addresses import AddressLease, Endpoint
from .hostfiles import HostLayout, boot_command
from .isolated import boot_command as isolated_boot_command
from .processes import kill_namespaces, mount_namespace, parent_death_signal, ssh_banner_ready
from .profiles import HostProfile
from .standins import clear_calls, reset_kube_state
from .support import tool_path

START_TIMEOUT = 15.0


class HostStartError(RuntimeError):
    def __init__(self, host: str, reason: str, log_tail: str) -> None:
        super().__init__(f"test host {host}: {reason}\n--- sshd.log ---\n{log_tail}")
        self.address_in_use = "Address already in use" in log_tail


@dataclass(frozen=True)
class SshClientFiles:
    """The farm-wide ssh client material every host's :meth:`TestHost.ssh` uses."""

    client_key: Path
    known_hosts: Path
    ssh_config: Path
    mux_dir: Path  # ControlMaster sockets: one multiplexed connection per host


class TestHost:
    """A running (or stopped) stand-in machine; created by :class:`HostFarm`."""

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        profile: HostProfile,
        layout: HostLayout,
        lease: AddressLease,
        port: int,
        client: SshClientFiles,
        sshd: str,
    ) -> None:
        self.profile = profile
        self.name = profile.name
        self.address = lease.address
        self.port = port
        self.dir = layout.root
        self.bin_dir = layout.bin_dir
        self.kube_bin_dir = layout.kube_bin_dir
        self.log_path = layout.log_file
        self.host_key_public = " ".join(
            (layout.root / "ssh_host_ed25519_key.pub").read_text(encoding="ascii").split()[:2]
        )
        self._layout = layout
        self._lease = lease
        self._client = client
        self._sshd = sshd
        self._process: subprocess.Popen[bytes] | None = None
        self._namespace: str | None = None

    def __repr__(self) -> str:
        state = f"pid {self.pid}" if self.running else "stopped"
        return f"<TestHost {self.name} {self.address}:{self.port} {state}>"

    @property
    def pid(self) -> int | None:
        """The sshd listener's pid while running, else ``None``."""
        return self._process.pid if self.running and self._process else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(self.address, self.port)

    @property
    def machine_id(self) -> str:
        return (self._layout.etc_dir / "machine-id").read_text(encoding="ascii").strip()

    # -- lifecycle -------------------------------------------------------------------

    def start(self, timeout: float = START_TIMEOUT) -> None:
        """(Re)start sshd with the same key, address and port; wait until it greets."""
        if self.running:
            return
        self.launch()
        deadline = time.monotonic() + timeout
        while not self.poll_ready():
            if time.monotonic() > deadline:
                self.stop()
                raise HostStartError(self.name, f"no SSH banner after {timeout}s", self._log_tail())
            time.sleep(0.02)

    def stop(self) -> None:
        """Kill sshd and every session on this host: it becomes unreachable."""
        stop_hosts([self])

    def launch(self) -> None:
        """Start the namespace + sshd process without waiting (see :meth:`poll_ready`)."""
        self._namespace = None
        with open(self.log_path, "ab") as log:
            boot = isolated_boot_command if self.profile.isolated else boot_command
            self._process = subprocess.Popen(
                boot(self._layout, self.profile, self._sshd),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=parent_death_signal(signal.SIGKILL if self.profile.isolated else signal.SIGTERM),
            )

    def poll_ready(self) -> bool:
        """True once sshd accepts connections; raises :class:`HostStartError` if it died."""
        process = self._process
        if process is None:
            raise HostStartError(self.name, "was never launched", "")
        if process.poll() is not None:
            self._process = None
            raise HostStartError(self.name, f"sshd exited with {process.returncode}", self._log_tail())
        if not ssh_banner_ready(self.address, self.port, timeout=0.5):
            return False
        namespace = mount_namespace(process.pid)
        if namespace is None or namespace == mount_namespace(os.getpid()):
            raise HostStartError(self.name, "sshd is not in its own mount namespace", self._log_tail())
        self._namespace = namespace
        return True

    def reconfigure_port(self, port: int) -> None:
        """Before (re)starting: listen on another port (used when the first choice was taken)."""
        if self.running:
            raise RuntimeError("stop the host before changing its port")
        config = self._layout.sshd_config.read_text(encoding="utf-8")
        old, new = f"ListenAddress {self.address}:{self.port}\n", f"ListenAddress {self.address}:{port}\n"
        config = config.replace(old, new)
        self._layout.sshd_config.write_text(config, encoding="utf-8")
        self.port = port

    def release_address(self) -> None:
        self._lease.release()

    def _reap(self) -> None:
        process, self._process, self._namespace = self._process, None, None
        if process is None:
            return
        if process.poll() is None:  # never reached its namespace: kill its process group
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def _log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    # -- ssh -------------------------------------------------------------------------

    def ssh_argv(self, *remote: str) -> list[str]:
        """``ssh -F <farm ssh_config> ... root@ADDRESS [remote...]``, multiplexed per host.

        The harness reuses one ControlMaster connection per host for its own checks
        (about 10 ms a command instead of a full handshake); it ends with the host.
        """
        return [
            tool_path("ssh"), "-F", str(self._client.ssh_config),
            "-o", "ControlMaster=auto", "-o", f"ControlPath={self._mux_socket}", "-o", "ControlPersist=60",
            "-p", str(self.port), f"root@{self.address}", *remote,
        ]  # fmt: skip

    @property
    def _mux_socket(self) -> Path:
        return self._client.mux_dir / self.name

    def _close_mux(self) -> None:
        if self._mux_socket.exists():
            subprocess.run(
                [tool_path("ssh"), "-o", f"ControlPath={self._mux_socket}", "-O", "exit", "harness-mux"],
                capture_output=True,
                stdin=subprocess.DEVNULL,
                check=False,
                timeout=10,
            )

    def ssh(
        self, command: str, *, input: str | None = None, timeout: float = 30.0
    ) -> subprocess.CompletedProcess[str]:
        """Run ``command`` on this host over real ssh; never raises on a non-zero exit."""
        stdin = None if input is not None else subprocess.DEVNULL
        return subprocess.run(
            self.ssh_argv(command), input=input, stdin=stdin, capture_output=True, text=True, timeout=timeout
        )

    def run(self, command: str, *, timeout: float = 30.0) -> str:
        """Run ``command`` on this host over real ssh and return stdout; raise on failure."""
        result = self.ssh(command, timeout=timeout)
        if result.returncode != 0:
            raise subprocess.CalledProcessError(result.returncode, result.args, result.stdout, result.stderr)
        return result.stdout

    # -- stand-ins -------------------------------------------------------------------

    def calls(self, tool: str) -> list[dict[str, Any]]:
        """Recorded invocations of a stand-in tool, oldest first."""
        record = self._layout.calls_dir / f"{tool}.jsonl"
        if not record.exists():
            return []
        return [json.loads(line) for line in record.read_text(encoding="utf-8").splitlines() if line]

    def clear_calls(self) -> None:
        clear_calls(self._layout)

    def set_kube_response(
        self, tool: str, argv_prefix: str, *, stdout: str = "", stderr: str = "", rc: int = 0
    ) -> None:
        """Script ``kubectl``/``helm``: calls whose argv starts with ``argv_prefix`` answer so."""
        state_file = self.kube_bin_dir / "state.json"
        state = json.loads(state_file.read_text(encoding="utf-8"))
        state.setdefault(tool, {})[argv_prefix] = {"stdout": stdout, "stderr": stderr, "rc": rc}
        state_file.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")

    def reset_stand_ins(self) -> None:
        """Forget recorded calls and scripted kubectl/helm responses."""
        clear_calls(self._layout)
        reset_kube_state(self._layout)


def stop_hosts(hosts: Iterable[TestHost]) -> None:
    """Stop several hosts at once (one /proc scan for all of them)."""
    hosts = list(hosts)
    kill_namespaces(h._namespace for h in hosts if h._namespace is not None)
    for host in hosts:
        host._reap()
        host._close_mux()
