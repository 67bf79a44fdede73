"""Issue 22: a host key that was never recorded and one that changed are told apart, and the
hint runs as printed (the real spec path, shell-quoted), through real sshd test hosts and
the Kubespray stand-in: Ansible's ssh refuses the key in both cases."""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path

import pytest

from deepctl.ssh.known_hosts import host_key_name
from tests.harness import HostFarm, HostProfile, TestHost
from tests.integration.engine_support import DEEPCTL, deepctl, markers, write_spec

pytestmark = pytest.mark.integration


def spec_in_a_folder_with_a_space(tmp_path: Path, farm: HostFarm) -> tuple[Path, TestHost]:
    folder = tmp_path / "my specs"
    folder.mkdir()
    (cp1,) = farm.add_many([HostProfile("cp1")])
    return write_spec(folder, farm, {cp1: ["control-plane", "etcd", "worker"]}, cp1), cp1


def test_a_key_never_recorded_is_not_called_changed(ssh_host_farm: HostFarm,
                                                      tmp_path: Path) -> None:
    spec, _ = spec_in_a_folder_with_a_space(tmp_path, ssh_host_farm)
    (spec.parent / ".deepctl" / "lab" / "known_hosts").write_text("")  # preflight never ran
    result = deepctl("deploy", str(spec), "--yes", "--skip", "preflight", "--json",
                     cwd=spec.parent)
    assert result.returncode == 3, result.stdout + result.stderr
    error = json.loads(result.stdout.splitlines()[-1])["error"]
    assert error["kind"] == "host-key"
    assert error["message"] == "cluster.yml failed on cp1: no SSH host key of cp1 is known yet"
    command = f"deepctl preflight {shlex.quote(str(spec))} --accept-new-hosts"
    assert f"run `{command}` to check the hosts and record their keys" in error["hint"]
    assert "reinstalled" not in error["hint"] and "SPEC" not in error["hint"]
    assert markers(spec.parent, "cp1") == []  # nothing ran on the host

    # the hint runs as printed: it records the key, and the deploy then gets past ssh
    recorded = subprocess.run([str(DEEPCTL), *shlex.split(command)[1:]],
                              cwd=tmp_path, capture_output=True, text=True, timeout=240,
                              check=False, stdin=subprocess.DEVNULL)
    assert "trust on first use: recorded" in recorded.stdout, recorded.stdout + recorded.stderr
    again = deepctl("deploy", str(spec), "--yes", "--skip", "preflight", cwd=spec.parent)
    assert again.returncode == 0, again.stdout + again.stderr


def test_a_changed_key_says_so_with_a_hint_that_runs_as_printed(ssh_host_farm: HostFarm,
                                                                 tmp_path: Path) -> None:
    spec, cp1 = spec_in_a_folder_with_a_space(tmp_path, ssh_host_farm)
    other = tmp_path / "other_host_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    key_type, key = other.with_suffix(".pub").read_text().split()[:2]
    (spec.parent / ".deepctl" / "lab" / "known_hosts").write_text(
        f"{host_key_name(cp1.address, cp1.port)} {key_type} {key}\n")
    result = deepctl("deploy", str(spec), "--yes", "--skip", "preflight", cwd=spec.parent)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "cluster.yml failed on cp1: ssh refused the host key of cp1" in result.stderr
    assert "the key that cp1 presented is not the one in " in result.stderr
    assert (f"run `deepctl preflight {shlex.quote(str(spec))} --accept-new-hosts` to record "
            "the new key") in result.stderr
