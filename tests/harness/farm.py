"""A farm of test hosts sharing one temp dir and one ssh client key."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType

from .addresses import SSH_PORT, free_port, lease_address, preferred_port
from .hostfiles import HostLayout, generate_ed25519_key, write_identity_files, write_sshd_config
from .isolated import missing_isolation
from .profiles import HostProfile
from .sshd import START_TIMEOUT, HostStartError, SshClientFiles, TestHost, stop_hosts
from .standins import install_stand_ins
from .support import ensure_privsep_dir, missing_requirements, sshd_path, stub_python

KEEP_DIR_ENV = "DEEPCTL_HARNESS_KEEP_DIR"  # set to 1 to keep farm directories for debugging
PORT_RETRIES = 3
_LIVE_FARMS: set[HostFarm] = set()


class HostFarm:
    """Owns a temp dir, the client key pair and all hosts; a context manager.

    ``pool`` picks the loopback range: ``"session"`` (127.0.0.11-99) for the shared
    session farm, ``"function"`` (127.0.0.100-249) for per-test farms.
    """

    def __init__(self, pool: str = "function") -> None:
        reason = missing_requirements()
        if reason is not None:
            raise RuntimeError(f"cannot run test hosts here: {reason}")
        ensure_privsep_dir()
        self.pool = pool
        self.dir = Path(tempfile.mkdtemp(prefix=f"deepctl-hostfarm-{pool}-"))
        self.client_key = self.dir / "client_key"
        try:
            generate_ed25519_key(self.client_key, "deepctl-test-client")
        except BaseException:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise
        self.client_public_key = (self.dir / "client_key.pub").read_text(encoding="ascii").strip()
        self.known_hosts_path = self.dir / "known_hosts"
        self.ssh_config_path = self.dir / "ssh_config"
        mux_dir = self.dir / "mux"
        mux_dir.mkdir()
        self._client = SshClientFiles(self.client_key, self.known_hosts_path, self.ssh_config_path, mux_dir)
        self._hosts: dict[str, TestHost] = {}
        self._python = stub_python()
        self._closed = False
        _LIVE_FARMS.add(self)
        self._write_client_files()

    def __enter__(self) -> HostFarm:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __getitem__(self, name: str) -> TestHost:
        return self._hosts[name]

    def __iter__(self) -> Iterator[TestHost]:
        return iter(list(self._hosts.values()))

    @property
    def hosts(self) -> list[TestHost]:
        return list(self._hosts.values())

    # -- adding hosts ----------------------------------------------------------------

    def add(self, profile: HostProfile) -> TestHost:
        """Create and start one host; returns once its sshd accepts connections."""
        return self.add_many([profile])[0]

    def add_bastion(self, name: str = "bastion", os: str = "ubuntu-24.04") -> TestHost:
        """A host that allows TCP forwarding, for ``ssh -J`` / ProxyJump."""
        return self.add(HostProfile(name=name, os=os, tcp_forwarding=True))

    def add_many(self, profiles: Iterable[HostProfile]) -> list[TestHost]:
        """Create hosts, start all their sshds at once, then wait for all of them."""
        if self._closed:
            raise RuntimeError("farm is closed")
        profiles = list(profiles)
        names = [p.name for p in profiles]
        if any(p.isolated for p in profiles) and (reason := missing_isolation()) is not None:
            raise RuntimeError(f"cannot run isolated test hosts here: {reason}")
        duplicates = {n for n in names if names.count(n) > 1 or n in self._hosts}
        if duplicates:
            raise ValueError(f"host names already used in this farm: {sorted(duplicates)}")
        hosts = [self._create(profile) for profile in profiles]
        for host in hosts:
            host.launch()
        self._wait_until_ready(hosts)
        self._write_client_files()
        return hosts

    def _create(self, profile: HostProfile) -> TestHost:
        lease = lease_address(self.pool)
        try:
            layout = HostLayout(self.dir / "hosts" / profile.name)
            layout.root.mkdir(parents=True)
            port = preferred_port(lease.address)
            generate_ed25519_key(layout.host_key, f"root@{profile.name}")
            layout.authorized_keys.write_text(self.client_public_key + "\n", encoding="ascii")
            write_identity_files(layout, profile, lease.address)
            write_sshd_config(layout, profile, lease.address, port)
            install_stand_ins(layout, profile, self._python)
        except BaseException:
            lease.release()
            raise
        sshd = sshd_path()
        assert sshd is not None  # checked by missing_requirements()
        host = TestHost(profile, layout, lease, port, self._client, sshd)
        self._hosts[profile.name] = host
        return host

    def _wait_until_ready(self, hosts: list[TestHost]) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        retries = {host.name: 0 for host in hosts}
        pending = list(hosts)
        while pending:
            for host in list(pending):
                try:
                    if host.poll_ready():
                        pending.remove(host)
                except HostStartError as error:
                    if not error.address_in_use or retries[host.name] >= PORT_RETRIES:
                        raise
                    retries[host.name] += 1
                    host.reconfigure_port(free_port(host.address))
                    host.launch()
            if pending and time.monotonic() > deadline:
                raise HostStartError(pending[0].name, f"no SSH banner after {START_TIMEOUT}s", "")
            if pending:
                time.sleep(0.02)

    # -- ssh client material ---------------------------------------------------------

    def known_hosts(self, hosts: Iterable[TestHost] | None = None) -> str:
        """known_hosts lines (``ADDR key`` or ``[ADDR]:PORT key``) for ``hosts`` (default: all)."""
        lines = []
        for host in self.hosts if hosts is None else hosts:
            where = host.address if host.port == SSH_PORT else f"[{host.address}]:{host.port}"
            lines.append(f"{where} {host.host_key_public}\n")
        return "".join(lines)

    def _write_client_files(self) -> None:
        self.known_hosts_path.write_text(self.known_hosts(), encoding="ascii")
        aliases = "".join(
            f"Host {h.name}\n    HostName {h.address}\n    Port {h.port}\n\n" for h in self.hosts
        )
        self.ssh_config_path.write_text(
            "# deepctl test harness: ssh client settings for this farm's hosts\n"
            f"{aliases}"
            "Host *\n"
            "    User root\n"
            f"    IdentityFile {self.client_key}\n"
            "    IdentitiesOnly yes\n"
            "    IdentityAgent none\n"
            f"    UserKnownHostsFile {self.known_hosts_path}\n"
            "    GlobalKnownHostsFile /dev/null\n"
            "    StrictHostKeyChecking yes\n"
            "    UpdateHostKeys no\n"
            "    BatchMode yes\n"
            "    ConnectTimeout 5\n"
            "    LogLevel ERROR\n",
            encoding="ascii",
        )

    # -- teardown --------------------------------------------------------------------

    def close(self) -> None:
        """Stop every host (and all their sessions), free the addresses, remove the dir."""
        if self._closed:
            return
        self._closed = True
        try:
            stop_hosts(self.hosts)
        finally:
            for host in self.hosts:
                host.release_address()
            _LIVE_FARMS.discard(self)
            if os.environ.get(KEEP_DIR_ENV) != "1":
                shutil.rmtree(self.dir, ignore_errors=True)


def close_all_farms() -> None:
    """Last-resort cleanup (atexit / pytest_unconfigure) for farms nobody closed."""
    for farm in list(_LIVE_FARMS):
        farm.close()


atexit.register(close_all_farms)
