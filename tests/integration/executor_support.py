"""An executor that is a machine of its own: an isolated test host (own overlay root, own
namespaces; tests/harness/isolated.py) with this venv's ansible-runner and Ansible on its PATH.

Every loopback connection leaves from 127.0.0.1 unless the client binds another address, so
:func:`connect_from_own_address` gives the executor's own ssh client (``/etc/ssh/ssh_config.d``
inside its root, not deepctl's settings) ``BindAddress`` its address, and
:func:`accept_ssh_only_from` makes a cluster host's sshd refuse every other source: the
controller then reaches that host only through the executor.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import pytest
import yaml

from tests.harness import HostFarm, HostProfile, TestHost

VENV_BIN = Path(sys.executable).parent
TOOLS = ("ansible-runner", "ansible-playbook", "ansible-inventory", "ansible-config", "ansible")
# the executor's own ssh client settings, inside its overlay root (its /etc, not this machine's)
BIND_CONFIG = "/etc/ssh/ssh_config.d/50-deepctl-test-bind.conf"


def isolated_executor(farm: HostFarm, name: str = "exec1") -> TestHost:
    """An isolated host whose PATH has ansible-runner and Ansible (this venv's, seen through
    the host's overlay of ``/``: skipped when the venv is on another mount, which it lacks)."""
    if os.stat(VENV_BIN).st_dev != os.stat("/").st_dev:
        pytest.skip(f"{VENV_BIN} is not on the root filesystem, which isolated hosts overlay")
    (executor,) = farm.add_many([HostProfile(name, isolated=True, tcp_forwarding=True)])
    for tool in TOOLS:
        (executor.bin_dir / tool).symlink_to(VENV_BIN / tool)
    return executor


def connect_from_own_address(executor: TestHost) -> None:
    """The executor's ssh connections leave from its own address (``BindAddress``)."""
    line = f"BindAddress {executor.address}\n"
    executor.run(f"printf %s {shlex.quote(line)} > {BIND_CONFIG}")


def accept_ssh_only_from(host: TestHost, address: str) -> None:
    """Restart ``host``'s sshd so that it lets root log in from ``address`` only."""
    config = host.dir / "sshd_config"
    config.write_text(config.read_text(encoding="utf-8") + f"AllowUsers root@{address}\n",
                      encoding="utf-8")
    host.stop()
    host.start()


def use_executor(spec: Path, farm: HostFarm, executor: TestHost) -> None:
    """Set ``spec.executor`` and record the executor's host key in the cluster's known_hosts."""
    data = yaml.safe_load(spec.read_text(encoding="utf-8"))
    data["spec"]["executor"] = {"address": executor.address, "port": executor.port}
    spec.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    known = spec.parent / ".deepctl" / data["metadata"]["name"] / "known_hosts"
    known.write_text(known.read_text(encoding="ascii") + farm.known_hosts([executor]),
                     encoding="ascii")


def accepted_sources(host: TestHost) -> set[str]:
    """The addresses ``host``'s sshd accepted a login from (its log)."""
    words = [line.split() for line in host.log_path.read_text(errors="replace").splitlines()
             if line.startswith("Accepted publickey for ")]
    return {w[w.index("from") + 1] for w in words if "from" in w}
