"""add-node, remove-node, upgrade, kubeconfig and reset through the Kubespray stand-in."""

from __future__ import annotations

import difflib
import json
from pathlib import Path

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
    ready_nodes(cp1, ["cp1", "wk1", "wk2"])
    rerun = deepctl("deploy", str(spec), "--yes", "--skip", "preflight", cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "[kubespray] skipped (up to date)" in rerun.stdout

    refused = deepctl("remove-node", str(spec), "cp1", "--yes", cwd=tmp_path)
    assert refused.returncode == 2 and "last control plane" in refused.stderr
    removed = deepctl("remove-node", str(spec), "wk2", "--yes", cwd=tmp_path)
    assert removed.returncode == 0, removed.stdout + removed.stderr
    assert markers(tmp_path, "wk2") == ["facts.yml", "scale.yml", "remove-node.yml"]
    assert spec.read_text() == original  # the spec is back, byte for byte

    too_far = deepctl("upgrade", str(spec), "--to", "1.36.0", "--yes", cwd=tmp_path)
    assert too_far.returncode == 2, too_far.stderr
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

    reset = deepctl("reset", str(spec), "--yes", cwd=tmp_path)
    assert reset.returncode == 0, reset.stdout + reset.stderr
    assert markers(tmp_path, "wk1")[-1] == "reset.yml"
    assert not (tmp_path / ".deepctl" / "lab" / "inventory" / "artifacts" / "admin.conf").exists()
    history = json.loads(deepctl("runs", str(spec), "--json", cwd=tmp_path).stdout)["runs"]
    assert [r["command"] for r in history] == [
        "reset", "upgrade", "remove-node", "deploy", "add-node", "deploy"]
