"""A deploy with spec.ansible.strategy: mitogen, through the Kubespray stand-in."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.harness import HostFarm, HostProfile
from tests.integration.engine_support import deepctl, markers, run_state, write_spec

pytestmark = pytest.mark.integration

MITOGEN = "  ansible: {strategy: mitogen}\n"


def test_mitogen_deploy_runs_and_keeps_host_key_checking(ssh_host_farm: HostFarm,
                                                         tmp_path: Path) -> None:
    cp1, wk1, other = ssh_host_farm.add_many(
        [HostProfile("cp1"), HostProfile("wk1"), HostProfile("other")])
    spec = write_spec(tmp_path, ssh_host_farm,
                      {cp1: ["control-plane", "etcd", "worker"], wk1: ["worker"]}, cp1,
                      text_suffix=MITOGEN)
    known_hosts = tmp_path / ".deepctl" / "lab" / "known_hosts"
    good = known_hosts.read_text(encoding="ascii")

    # wk1's key in known_hosts is another host's: Mitogen's ssh must refuse it
    known_hosts.write_text(good.replace(wk1.host_key_public, other.host_key_public))
    refused = deepctl("deploy", str(spec), "--yes", "--skip", "preflight", cwd=tmp_path)
    assert refused.returncode == 3, refused.stdout + refused.stderr  # as without Mitogen
    assert "wk1: unreachable" in refused.stdout and "host key" in refused.stdout
    assert "ssh refused the host key of wk1" in refused.stderr
    assert markers(tmp_path, "wk1") == [] and markers(tmp_path, "cp1") == ["cluster.yml"]

    known_hosts.write_text(good)
    done = deepctl("deploy", str(spec), "--yes", "--skip", "preflight", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert markers(tmp_path, "wk1") == ["cluster.yml"]
    run_dir = tmp_path / ".deepctl" / "lab" / "runs" / str(run_state(tmp_path)["id"])
    cfg = (run_dir / "ansible.cfg").read_text(encoding="utf-8")
    assert "strategy = mitogen_linear" in cfg and "ansible_mitogen/plugins/strategy" in cfg
