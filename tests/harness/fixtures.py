"""pytest plugin: real-sshd test hosts. Register with ``pytest_plugins = ["tests.harness.fixtures"]``.

Fixtures:
    ssh_host_farm        function-scoped :class:`HostFarm`; add your own hosts
    shared_ssh_hosts     session-scoped standard hosts (cp1, gpu1, gpu2, wk1, bastion)
    unreachable_address  a loopback :class:`Endpoint` where nothing listens
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from .addresses import Endpoint, unreachable_endpoint
from .farm import HostFarm, close_all_farms
from .profiles import HostProfile
from .sshd import TestHost
from .support import missing_requirements

SHARED_HOST_PROFILES = (
    HostProfile(name="cp1", os="ubuntu-24.04", gpu="none"),
    HostProfile(name="gpu1", os="ubuntu-24.04", gpu="h100x8"),
    HostProfile(name="gpu2", os="ubuntu-22.04", gpu="a100-mig"),
    HostProfile(name="wk1", os="debian-12", gpu="none"),
    HostProfile(name="bastion", os="ubuntu-24.04", tcp_forwarding=True),
)


@dataclass(frozen=True)
class SharedSshHosts:
    """The session-wide standard hosts. Do not stop them; use ``ssh_host_farm`` for that."""

    farm: HostFarm
    cp1: TestHost
    gpu1: TestHost
    gpu2: TestHost
    wk1: TestHost
    bastion: TestHost

    @property
    def nodes(self) -> list[TestHost]:
        """The cluster nodes (everything but the bastion)."""
        return [self.cp1, self.gpu1, self.gpu2, self.wk1]

    def reset_stand_ins(self) -> None:
        """Forget recorded calls and scripted kubectl/helm responses on every host."""
        for host in self.farm:
            host.reset_stand_ins()


def require_real_sshd_hosts() -> None:
    """Skip the calling test when this machine cannot run real-sshd test hosts."""
    reason = missing_requirements()
    if reason is not None:
        pytest.skip(f"real-sshd test hosts unavailable: {reason}")


@pytest.fixture
def ssh_host_farm() -> Iterator[HostFarm]:
    """A fresh, empty farm for this test (addresses 127.0.0.100-249); closed afterwards."""
    require_real_sshd_hosts()
    with HostFarm(pool="function") as farm:
        yield farm


@pytest.fixture(scope="session")
def shared_ssh_hosts() -> Iterator[SharedSshHosts]:
    """Standard hosts shared by the whole session (addresses 127.0.0.11-99)."""
    require_real_sshd_hosts()
    with HostFarm(pool="session") as farm:
        cp1, gpu1, gpu2, wk1, bastion = farm.add_many(SHARED_HOST_PROFILES)
        yield SharedSshHosts(farm, cp1, gpu1, gpu2, wk1, bastion)


@pytest.fixture
def unreachable_address() -> Endpoint:
    """An address in 127.0.0.0/8 (127.0.0.250, normally port 22) with nothing listening."""
    return unreachable_endpoint()


def pytest_unconfigure(config: pytest.Config) -> None:
    """Session-level backstop: stop hosts of any farm a crashed fixture left behind."""
    close_all_farms()
