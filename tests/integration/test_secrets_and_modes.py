"""Who can read the state directory, and strings from the spec that look like templates.

Loopback SSH hosts and the Kubespray stand-in; deepctl runs as a subprocess, as people type it.
"""

from __future__ import annotations

import shutil
import stat
import uuid
from pathlib import Path

import pytest
import yaml

from tests.harness import HostFarm, HostProfile
from tests.integration.engine_support import REPO, deepctl, markers, run_state, write_spec

pytestmark = pytest.mark.integration

PRIVATE_FILES = ("known_hosts", "inventory/hosts.yaml", "inventory/artifacts/admin.conf")


def exposed(root: Path) -> list[str]:
    """Paths under ``root`` (itself included) that group or others may read, write or enter.

    Except Ansible's fact cache files: ansible-core chmods them 0644 itself
    (``ansible/plugins/cache/__init__.py``); their directories are 0700 like every other.
    """
    paths = [root, *root.rglob("*")]
    return [f"{oct(stat.S_IMODE(p.lstat().st_mode))} {p}" for p in paths
            if not p.is_symlink() and p.lstat().st_mode & 0o077
            and not (p.is_file() and p.parent.name in ("fact_cache", "facts-cache"))]


def assert_private(state: Path, *files: str) -> None:
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    for name in files:
        assert stat.S_IMODE((state / name).stat().st_mode) == 0o600, name
    assert exposed(state) == []


def hostile_key_path(tmp_path: Path, key: Path, marker: Path) -> Path:
    """A real copy of ``key`` at a path that is an Ansible template running ``touch marker``."""
    path = tmp_path / "keys" / f"{{{{ lookup('pipe', 'touch {marker}') }}}}" / "id"
    path.parent.mkdir(parents=True)
    shutil.copyfile(key, path)
    path.chmod(0o600)
    return path


def test_state_dir_is_private_after_every_command_and_templates_stay_text(
        ssh_host_farm: HostFarm, tmp_path: Path) -> None:
    (cp1,) = ssh_host_farm.add_many([HostProfile("cp1")])
    spec = write_spec(tmp_path, ssh_host_farm, {cp1: ["control-plane", "etcd", "worker"]}, cp1)
    marker = Path(f"/tmp/deepctl-pwned-{uuid.uuid4().hex}")
    key = hostile_key_path(tmp_path, ssh_host_farm.client_key, marker)
    data = yaml.safe_load(spec.read_text())
    data["spec"]["ssh"]["identityFile"] = str(key)
    spec.write_text(yaml.safe_dump(data, sort_keys=False))
    state = tmp_path / ".deepctl" / "lab"
    (state / "known_hosts").unlink()  # deepctl records the host key itself below

    checked = deepctl("validate", str(spec), "--no-kubespray", cwd=tmp_path)  # stand-in tree
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert_private(state, "inventory/hosts.yaml")

    # preflight may find the test host lacking (exit 3); it still records what it saw
    pre = deepctl("preflight", str(spec), "--accept-new-hosts", cwd=tmp_path)
    assert pre.returncode in (0, 3), pre.stdout + pre.stderr
    assert_private(state, "known_hosts", "inventory/hosts.yaml")
    assert list((state / "facts").iterdir())

    done = deepctl("deploy", str(spec), "--yes", "--skip", "preflight", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert markers(tmp_path, "cp1") == ["cluster.yml"]  # Ansible used the key at that path
    # facts land in the per-cluster cache (scale.yml --limit needs them in a later run)
    assert (state / "facts-cache" / "cp1").is_file()
    assert_private(state, *PRIVATE_FILES)
    assert not marker.exists()

    literal = f"{{{{ lookup(''pipe'', ''touch {marker}'') }}}}"  # YAML single-quoted
    run_inventory = state / "runs" / str(run_state(tmp_path)["id"]) / "inventory"
    for hosts_yaml in (state / "inventory" / "hosts.yaml", run_inventory / "hosts.yaml"):
        assert f"!unsafe '{tmp_path}/keys/{literal}/id'" in hosts_yaml.read_text(), hosts_yaml


def test_hostile_label_is_refused_before_anything_runs(ssh_host_farm: HostFarm,
                                                       tmp_path: Path) -> None:
    """Label values cannot hold a template at all: the spec is rejected, nothing is written."""
    (cp1,) = ssh_host_farm.add_many([HostProfile("cp1")])
    spec = write_spec(tmp_path, ssh_host_farm, {cp1: ["control-plane", "etcd", "worker"]}, cp1)
    marker = Path(f"/tmp/deepctl-pwned-{uuid.uuid4().hex}")
    data = yaml.safe_load(spec.read_text())
    data["spec"]["hosts"][0]["labels"] = {"team": f"{{{{ lookup('pipe', 'touch {marker}') }}}}"}
    spec.write_text(yaml.safe_dump(data, sort_keys=False))

    refused = deepctl("deploy", str(spec), "--yes", "--skip", "preflight", cwd=tmp_path)
    output = refused.stdout + refused.stderr
    assert refused.returncode == 2, output
    assert f"{spec}:" in refused.stderr and "spec.hosts[0].labels.team" in refused.stderr
    assert "is not a valid label value" in refused.stderr
    assert "Traceback" not in output
    assert not marker.exists()
    assert not (tmp_path / ".deepctl" / "lab" / "runs").exists()
    assert markers(tmp_path, "cp1") == []


def test_no_ssh_code_auto_accepts_host_keys() -> None:
    """paramiko's AutoAddPolicy/WarningPolicy would trust any key: deepctl uses neither."""
    sources = sorted((REPO / "src" / "deepctl").rglob("*.py"))
    assert sources
    for path in sources:
        text = path.read_text(encoding="utf-8")
        assert "AutoAddPolicy" not in text and "WarningPolicy" not in text, path
