"""add-node, remove-node, upgrade, kubeconfig and reset through the Kubespray stand-in."""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.harness import HostFarm, HostProfile
from tests.integration.engine_support import deepctl, markers, ready_nodes, write_spec

pytestmark = pytest.mark.integration

HEADER = "# lab cluster: keep this comment\n# and this one\n"
FOOTER = "# trailing comment, byte for byte\n"


def test_add_remove_upgrade_kubeconfig_reset(ssh_host_farm: HostFarm, tmp_path: Path) -> None:
    cp1, wk1, wk2 = ssh_host_farm.add_many(
        [HostProfile("cp1"), HostProfile("wk1"), HostProfile("wk2")])
    spec = write_spec(tmp_path, ssh_host_farm,
                      {cp1: ["control-plane", "etcd", "worker"], wk1: ["worker"]}, cp1,
                      text_prefix=HEADER, text_suffix=FOOTER, kube_version="1.34.7")
    known = tmp_path / ".deepctl" / "lab" / "known_hosts"
    known.write_text(ssh_host_farm.known_hosts([cp1, wk1, wk2]))
    deployed = deepctl("deploy", str(spec), "--yes", "--skip", "preflight", cwd=tmp_path)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    original = spec.read_text()

    port = [] if wk2.port == 22 else ["--ssh-port", str(wk2.port)]
    runs_before = len(runs_of(spec, tmp_path))
    assert plan_of(tmp_path, "add-node", str(spec), "--name", "wk2", "--address", wk2.address,
                   *port) == ["preflight", "facts", "scale", "spec", "verify"]  # no GPU: no gpu-ready
    assert spec.read_text() == original and markers(tmp_path, "wk2") == []  # nothing changed
    assert not (tmp_path / "cluster.yaml.bak").exists()
    assert len(runs_of(spec, tmp_path)) == runs_before
    ready_nodes(cp1, ["cp1", "wk1", "wk2"])  # add-node's verify asks whether wk2 is Ready
    added = deepctl("add-node", str(spec), "--name", "wk2", "--address", wk2.address,
                    *port, "--label", "team=ml", "--yes", cwd=tmp_path)
    assert added.returncode == 0, added.stdout + added.stderr
    text = spec.read_text()
    assert text.startswith(HEADER) and text.endswith(FOOTER)
    ops = difflib.SequenceMatcher(None, original.splitlines(True), text.splitlines(True),
                                  autojunk=False).get_opcodes()
    assert [op[0] for op in ops] == ["equal", "insert", "equal"]  # one block inserted
    entry = "".join(text.splitlines(True)[ops[1][3]:ops[1][4]])
    assert "name: wk2" in entry and "team: ml" in entry
    assert (tmp_path / "cluster.yaml.bak").read_text() == original
    # only the new host was configured; the others only had their facts read
    assert markers(tmp_path, "wk2") == ["facts.yml", "scale.yml"]
    assert markers(tmp_path, "wk1") == ["cluster.yml", "facts.yml"]
    assert markers(tmp_path, "cp1") == ["cluster.yml", "facts.yml"]
    rerun = deepctl("deploy", str(spec), "--yes", "--skip", "preflight", cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "[kubespray] skipped (up to date)" in rerun.stdout

    refused = deepctl("remove-node", str(spec), "cp1", "--yes", cwd=tmp_path)
    assert refused.returncode == 2 and "last control plane" in refused.stderr
    assert plan_of(tmp_path, "remove-node", str(spec), "wk2") == ["remove", "spec"]
    removed = deepctl("remove-node", str(spec), "wk2", "--yes", cwd=tmp_path)
    assert removed.returncode == 0, removed.stdout + removed.stderr
    assert markers(tmp_path, "wk2") == ["facts.yml", "scale.yml", "remove-node.yml"]
    assert spec.read_text() == original  # the spec is back, byte for byte

    too_far = deepctl("upgrade", str(spec), "--to", "1.36.0", "--yes", cwd=tmp_path)
    assert too_far.returncode == 2, too_far.stderr
    assert plan_of(tmp_path, "upgrade", str(spec), "--to", "1.35.4") == ["upgrade", "spec"]
    assert "version: 1.34.7" in spec.read_text()  # the dry run changed nothing
    upgraded = deepctl("upgrade", str(spec), "--to", "1.35.4", "--yes", cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
    assert 'version: "1.35.4"' in spec.read_text()
    assert (tmp_path / "standin" / "markers" / "cp1.log").read_text().splitlines()[-1].startswith(
        "upgrade-cluster.yml limit=all kube_version=1.35.4")

    out = tmp_path / "lab.conf"
    kubeconfig = deepctl("kubeconfig", str(spec), "-o", str(out), cwd=tmp_path)
    assert kubeconfig.returncode == 0, kubeconfig.stderr
    assert f"server: https://{cp1.address}:6443" in out.read_text()
    assert out.stat().st_mode & 0o777 == 0o600

    assert plan_of(tmp_path, "reset", str(spec)) == ["reset", "forget"]
    reset = deepctl("reset", str(spec), "--yes", cwd=tmp_path)
    assert reset.returncode == 0, reset.stdout + reset.stderr
    assert markers(tmp_path, "wk1")[-1] == "reset.yml"
    assert not (tmp_path / ".deepctl" / "lab" / "inventory" / "artifacts" / "admin.conf").exists()
    history = runs_of(spec, tmp_path)
    assert [r["command"] for r in history] == [
        "reset", "upgrade", "remove-node", "deploy", "add-node", "deploy"]
    stages = {r["command"]: [(s["name"], s["status"]) for s in r["stages"]] for r in history}
    assert stages["add-node"] == [("preflight", "succeeded"), ("offline-ca", "skipped"),
                                  ("facts", "succeeded"),
                                  ("scale", "succeeded"), ("spec", "succeeded"),
                                  ("gpu-ready", "skipped"),
                                  ("verify", "succeeded")]
    assert stages["remove-node"] == [("remove", "succeeded"), ("spec", "succeeded")]
    assert stages["upgrade"] == [("upgrade", "succeeded"), ("spec", "succeeded")]
    assert stages["reset"] == [("reset", "succeeded"), ("forget", "succeeded")]
    for run in history:  # every command's run records how long each of its stages took
        for stage in run["stages"]:
            if stage["status"] == "skipped":
                assert stage["duration_s"] is None and stage["reason"], (run["command"], stage)
            else:
                assert isinstance(stage["duration_s"], float), (run["command"], stage)


def runs_of(spec: Path, cwd: Path) -> list[dict[str, Any]]:
    done = deepctl("runs", str(spec), "--json", cwd=cwd)
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout)["runs"])


def plan_of(cwd: Path, *args: str) -> list[str]:
    """``deepctl ARGS --dry-run --json``: the names of the stages it would run."""
    done = deepctl(*args, "--dry-run", "--json", cwd=cwd)
    assert done.returncode == 0, done.stdout + done.stderr
    plan = json.loads(done.stdout)
    assert plan["dryRun"] is True and plan["command"] == args[0]
    return [s["name"] for s in plan["stages"] if s["runs"]]
