"""The controller reaches the cluster hosts only through the executor.

The executor is an isolated test host (own overlay root and namespaces) with ansible-runner
and Ansible; its own ssh client config binds its address, and the cluster hosts' sshd lets
root in from that address only. So the controller (127.0.0.1) is refused, a deploy through the
executor succeeds, and a deploy without one fails at preflight, before any host is touched.
Nothing in deepctl knows about this: the spec only names the executor.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.harness import HostFarm, HostProfile
from tests.harness.isolated import missing_isolation
from tests.integration.engine_support import deepctl, markers, run_state, write_spec
from tests.integration.executor_support import (
    BIND_CONFIG,
    accept_ssh_only_from,
    accepted_sources,
    connect_from_own_address,
    isolated_executor,
    use_executor,
)

pytestmark = pytest.mark.integration


def test_cluster_hosts_reachable_only_through_the_executor(ssh_host_farm: HostFarm,
                                                           tmp_path: Path) -> None:
    if (reason := missing_isolation()) is not None:
        pytest.skip(f"isolated test hosts unavailable: {reason}")
    cp1, wk1 = ssh_host_farm.add_many([HostProfile("cp1"), HostProfile("wk1")])
    executor = isolated_executor(ssh_host_farm)
    connect_from_own_address(executor)
    assert not Path(BIND_CONFIG).exists()  # the executor's own /etc, not this machine's
    for host in (cp1, wk1):
        accept_ssh_only_from(host, executor.address)
    direct = cp1.ssh("true")  # from this machine: refused
    assert direct.returncode == 255 and "Permission denied" in direct.stderr, direct
    hosts = {cp1: ["control-plane", "etcd", "worker"], wk1: ["worker"]}

    without, through = tmp_path / "without", tmp_path / "through"
    without.mkdir()
    through.mkdir()
    spec = write_spec(without, ssh_host_farm, hosts, cp1)
    done = deepctl("deploy", str(spec), "--yes", cwd=without)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "error: preflight found 2 error(s)" in done.stderr
    assert f"cp1: root@{cp1.address}:{cp1.port}: authentication failed with key" in done.stderr
    assert f"wk1: root@{wk1.address}:{wk1.port}: authentication failed with key" in done.stderr
    assert markers(without, "cp1") == markers(without, "wk1") == []

    spec = write_spec(through, ssh_host_farm, hosts, cp1)
    use_executor(spec, ssh_host_farm, executor)
    # preflight's host checks go through the executor too (a direct-tcpip channel of its
    # sshd, test_executor.py::test_preflight_logs_in_to_the_hosts_through_the_executor), but
    # on loopback sshd opens those from 127.0.0.1, which these hosts refuse: a real network
    # sees them come from the executor. The executor's checks at the start prove the reach.
    done = deepctl("deploy", str(spec), "--yes", "--skip", "preflight", cwd=through)
    assert done.returncode == 0, done.stdout + done.stderr
    assert markers(through, "cp1") == markers(through, "wk1") == ["cluster.yml"]
    stages = run_state(through)["stages"]
    assert isinstance(stages, dict) and stages["verify"]["status"] == "succeeded", stages
    # every login the hosts let in came from the executor
    assert accepted_sources(cp1) == accepted_sources(wk1) == {executor.address}
