"""``deepctl validate`` runs *Kubespray's own* inventory validation (ansible_version.yml, the
roles dynamic_groups and validate_inventory) with the real Kubespray v2.31.0 tree, contacts no
host and writes nothing outside the state directory."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from deepctl.kubespray.source import is_populated
from tests.cli.conftest import MINIMAL_SPEC, Invoke, Sandbox

# The real tree .ci/run names (../shared/kubespray-v2.31.0), else deepctl's own cache.
KUBESPRAY = Path(os.environ.get("DEEPCTL_TEST_KUBESPRAY")
                 or Path.home() / ".cache" / "deepctl" / "kubespray" / "v2.31.0")

pytestmark = pytest.mark.skipif(
    not is_populated(KUBESPRAY),
    reason=f"no Kubespray v2.31.0 tree at {KUBESPRAY} (set DEEPCTL_TEST_KUBESPRAY to one, or "
    "run `deepctl kubespray fetch`)",
)

# deepctl's own rules accept a string here; Kubespray's validate_inventory asserts a boolean.
REJECTED_BY_KUBESPRAY_ONLY = 'kubesprayVars:\n    download_run_once: "yes"\n'


def spec_text(extra: str = "") -> str:
    return MINIMAL_SPEC + f"  kubespray:\n    path: {KUBESPRAY}\n" + (f"  {extra}" if extra else "")


def snapshot(root: Path) -> dict[str, float]:
    return {str(p): p.stat().st_mtime for p in root.rglob("*") if not p.is_symlink()}


@pytest.fixture
def quiet_tmp(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Path:
    """TMPDIR inside the sandbox, so that anything written there is seen."""
    tmp = sandbox.root / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    return tmp


def test_kubespray_accepts_a_valid_inventory(cli: Invoke, sandbox: Sandbox) -> None:
    spec = sandbox.spec(spec_text())
    result = cli("validate", str(spec))
    assert result.exit_code == 0, result.output
    assert f"Kubespray's own inventory checks passed (Kubespray v2.31.0 from spec ({KUBESPRAY}))" in (
        result.stdout
    )


def test_kubespray_rejects_what_deepctl_alone_accepts(
    cli: Invoke, sandbox: Sandbox, quiet_tmp: Path
) -> None:
    spec = sandbox.spec(spec_text(REJECTED_BY_KUBESPRAY_ONLY))
    assert cli("validate", str(spec), "--no-kubespray").exit_code == 0  # deepctl's rules pass

    before_tree = snapshot(KUBESPRAY / "roles") | snapshot(KUBESPRAY / "playbooks")
    result = cli("validate", str(spec))
    assert result.exit_code == 2
    err = result.stderr
    assert f"{spec}: Kubespray check 'Stop if known booleans are set as strings" in err
    assert "failed for cp1: Assertion failed (condition: download_run_once | type_debug == " \
           "'bool')" in err
    assert "error: Kubespray's inventory validation rejected the rendered inventory" in err
    state = sandbox.work / ".deepctl" / "lab"
    assert f"hint: Ansible output is in {state}/kubespray-validate/artifacts/validate" in err

    # Nothing written outside the state directory: not beside the spec, not in HOME, not in
    # TMPDIR, not in the Kubespray tree.
    assert sorted(p.name for p in sandbox.work.iterdir()) == [".deepctl", "cluster.yaml"]
    assert sorted(p.name for p in (sandbox.work / ".deepctl").iterdir()) == ["lab"]
    assert list(sandbox.home.iterdir()) == []
    assert list(quiet_tmp.iterdir()) == []
    assert snapshot(KUBESPRAY / "roles") | snapshot(KUBESPRAY / "playbooks") == before_tree
    assert not any(p.name.endswith((".retry", "ssh-bastion.conf")) for p in KUBESPRAY.iterdir())
    modes = {p: os.stat(p).st_mode & 0o077 for p in [state, state / "kubespray-validate"]}
    assert all(mode == 0 for mode in modes.values()), modes


def test_kubespray_rejection_as_json_is_one_document(cli: Invoke, sandbox: Sandbox) -> None:
    spec = sandbox.spec(spec_text(REJECTED_BY_KUBESPRAY_ONLY))
    result = cli("validate", str(spec), "--json")
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["kind"] == "spec"
    (problem,) = error["problems"]
    assert "download_run_once | type_debug == 'bool'" in problem["message"]
    assert problem["file"] == str(spec)


EQUIVALENCE_HOSTS = int(os.environ.get("DEEPCTL_TEST_EQUIVALENCE_HOSTS", "40"))


def equivalence_spec(hosts: int) -> str:
    """3 control planes, then workers (every other one with GPUs, 10 to a rack), with
    planted per-host errors: node7 and the last host (one class of two: only node7 is
    checked), node10-node14 (a class of five); node20 has its own SSH user (a class of its
    own that passes)."""
    lines = [
        "apiVersion: deepctl/v1alpha1", "kind: Cluster", "metadata: {name: equiv}", "spec:",
        f"  kubespray: {{path: {KUBESPRAY}}}",
        "  kubernetes: {podSubnet: 10.64.0.0/10, serviceSubnet: 10.32.0.0/16, nodePrefix: 24}",
        "  hosts:",
    ]
    for i in range(hosts):
        roles = "[control-plane, etcd]" if i < 3 else "[worker]"
        extra = ""
        if i == 7 or i == hosts - 1:
            extra = ", kubesprayVars: {cloud_provider: aws}"
        elif 10 <= i <= 14:
            extra = ", kubesprayVars: {cloud_provider: external, external_cloud_provider: bogus}"
        elif i == 20:
            extra = ", ssh: {user: admin}"
        lines.append(f"    - {{name: node{i}, address: 192.0.2.{i + 1}, roles: {roles}, "
                     f"gpu: {'true' if i >= 3 and i % 2 else 'false'}, "
                     f"labels: {{rack: r{i // 10}}}{extra}}}")
    return "\n".join(lines) + "\n"


def test_checks_by_class_find_what_checks_on_every_host_find(tmp_path: Path) -> None:
    """Kubespray's checks on one host per class, findings spread over each class, give the
    very findings of the same checks run on every host (planted per-host errors included)."""
    from deepctl.kubespray import source as kubespray_source
    from deepctl.kubespray.validate import run_kubespray_validation
    from deepctl.kubevars.render import render_hosts
    from deepctl.workspace import open_workspace

    spec = tmp_path / "cluster.yaml"
    spec.write_text(equivalence_spec(EQUIVALENCE_HOSTS))
    results = {}
    for by_class in (True, False):
        ws = open_workspace(spec, tmp_path / f"state-{by_class}")
        ws.render_inventory()
        tree = kubespray_source.find(ws.cluster, ws.spec.directory)
        assert tree is not None
        results[by_class] = run_kubespray_validation(ws.state, tree, render_hosts(ws.cluster),
                                                     by_class=by_class)
    by_class, everywhere = results[True], results[False]
    last = f"node{EQUIVALENCE_HOSTS - 1}"
    # cp (node0..2), workers, node7 and the last host, node10-14, node20 (own user)
    assert (by_class.hosts_checked, everywhere.hosts_checked) == (5, EQUIVALENCE_HOSTS)
    assert by_class.failures == everywhere.failures
    assert [(f.task, f.host) for f in everywhere.failures] == [
        ("Check cloud_provider value", "node7"), ("Check cloud_provider value", last),
        *[("Check external_cloud_provider value", f"node{i}") for i in range(10, 15)],
    ]
    assert by_class.problems() == everywhere.problems()
    assert not by_class.ok and not everywhere.ok
