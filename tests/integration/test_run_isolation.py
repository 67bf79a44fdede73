"""A run reads its own inventory: validate and dry runs of the same spec cannot change it."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.harness import HostFarm, HostProfile
from tests.integration.engine_support import DEEPCTL, deepctl, wait_for, write_spec

pytestmark = pytest.mark.integration


def files_of(directory: Path) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def test_validate_and_dry_run_during_a_deploy_leave_its_inventory_alone(
        ssh_host_farm: HostFarm, tmp_path: Path) -> None:
    (cp1,) = ssh_host_farm.add_many([HostProfile("cp1")])
    spec = write_spec(tmp_path, ssh_host_farm, {cp1: ["control-plane", "etcd", "worker"]}, cp1)
    (tmp_path / "standin" / "sleep").write_text("60\n")
    running = subprocess.Popen([str(DEEPCTL), "deploy", str(spec), "--yes", "--skip", "preflight"],
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, stdin=subprocess.DEVNULL)
    state = tmp_path / ".deepctl" / "lab"
    try:
        wait_for(lambda: any("TASK Sleep" in p.read_text()
                             for p in (state / "runs").glob("*/deepctl.log")), 90)
        (run_dir,) = list((state / "runs").iterdir())
        before = files_of(run_dir / "inventory")
        assert "hosts.yaml" in before
        doc = yaml.safe_load(spec.read_text())
        doc["spec"]["hosts"][0]["labels"] = {"changed": "during-the-run"}
        spec.write_text(yaml.safe_dump(doc, sort_keys=False))

        validated = deepctl("validate", str(spec), "--no-kubespray", cwd=tmp_path)
        assert validated.returncode == 0, validated.stdout + validated.stderr
        planned = deepctl("deploy", str(spec), "--dry-run", cwd=tmp_path)
        assert planned.returncode == 0, planned.stdout + planned.stderr

        assert "during-the-run" in (state / "inventory" / "hosts.yaml").read_text()
        assert files_of(run_dir / "inventory") == before  # what the running playbook reads
        assert running.poll() is None  # still running, undisturbed
    finally:
        running.send_signal(signal.SIGINT)
        out, err = running.communicate(timeout=60)
    assert running.returncode == 130, out + err
