"""``deepctl validate`` runs *Kubespray's own* inventory validation (ansible_version.yml, the
roles dynamic_groups and validate_inventory) with the real Kubespray v2.31.0 tree, contacts no
host and writes nothing outside the state directory."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from deepctl.kubespray.source import is_populated
from deepctl.kubespray.validate import KubesprayCheckResult
from deepctl.kubevars.host_classes import HostClass
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


EQUIVALENCE_HOSTS = int(os.environ.get("DEEPCTL_TEST_EQUIVALENCE_HOSTS", "300"))
INLINE_STRATEGY = Path(__file__).resolve().parents[1] / "fixtures" / "ansible-inline-strategy"
CLOUD = "Check cloud_provider value"
EXTERNAL_CLOUD = "Check external_cloud_provider value"
DOWNLOAD_LOCALHOST = "Stop if download_localhost is enabled but download_run_once is not"
EXTERNAL_CA = ("Stop if auto_renew_certificates is enabled when certificates are managed "
               "externally (kube_external_ca_mode is true)")


def planted(hosts: int) -> dict[str, list[int]]:
    """The per-host errors planted by :func:`equivalence_spec`: Kubespray check -> host numbers."""
    return {
        CLOUD: [7, hosts - 1],  # a class of two: only node7 is checked
        EXTERNAL_CLOUD: list(range(10, 15)),  # a class of five
        # a rack of ten workers, with and without GPUs: a class of ten
        DOWNLOAD_LOCALHOST: list(range(200, 210)) if hosts > 210 else [],
        EXTERNAL_CA: [1, 151 if hosts > 160 else 8],  # lone hosts: a control plane, a worker
    }


def equivalence_spec(hosts: int) -> str:
    """3 control planes, then workers (every other one with GPUs, 10 to a rack), with the
    per-host errors of :func:`planted`, each in hosts of a class that is big without them;
    node20 has its own SSH user (a class of its own that passes)."""
    plants = {i: check for check, found in planted(hosts).items() for i in found}
    extra_vars = {
        CLOUD: "cloud_provider: aws",
        EXTERNAL_CLOUD: "cloud_provider: external, external_cloud_provider: bogus",
        DOWNLOAD_LOCALHOST: "download_localhost: true, download_run_once: false",
        EXTERNAL_CA: "kube_external_ca_mode: true",
    }
    lines = [
        "apiVersion: deepctl/v1alpha1", "kind: Cluster", "metadata: {name: equiv}", "spec:",
        f"  kubespray: {{path: {KUBESPRAY}}}",
        "  kubernetes: {podSubnet: 10.64.0.0/10, serviceSubnet: 10.32.0.0/16, nodePrefix: 24,",
        "               autoRenewCertificates: true}",
        "  hosts:",
    ]
    for i in range(hosts):
        roles = "[control-plane, etcd]" if i < 3 else "[worker]"
        extra = ""
        if i in plants:
            extra = f", kubesprayVars: {{{extra_vars[plants[i]]}}}"
        elif i == 20:
            extra = ", ssh: {user: admin}"
        lines.append(f"    - {{name: node{i}, address: 10.1.{i // 250}.{i % 250 + 1}, "
                     f"roles: {roles}, gpu: {'true' if i >= 3 and i % 2 else 'false'}, "
                     f"labels: {{rack: r{i // 10}}}{extra}}}")
    return "\n".join(lines) + "\n"


def kubespray_checks(state: Path, hosts: int, *, by_class: bool, strategy: str | None = None,
                     ) -> tuple[KubesprayCheckResult, list[HostClass]]:
    """Kubespray's checks on :func:`equivalence_spec`'s inventory as ``deepctl validate`` runs
    them (``by_class``: one host per class), or on every host, the reference, there with
    Ansible's ``strategy`` (``inline_linear``: tests/fixtures/ansible-inline-strategy; None:
    Ansible's own ``linear``); with the inventory's classes."""
    from deepctl.kubespray import source as kubespray_source
    from deepctl.kubespray.validate import run_kubespray_validation
    from deepctl.kubevars.host_classes import equivalence_classes
    from deepctl.kubevars.render import render_hosts
    from deepctl.workspace import open_workspace

    spec = state.parent / f"cluster-{hosts}.yaml"
    spec.write_text(equivalence_spec(hosts))
    ws = open_workspace(spec, state)
    ws.render_inventory()
    tree = kubespray_source.find(ws.cluster, ws.spec.directory)
    assert tree is not None
    inventory = render_hosts(ws.cluster)
    with pytest.MonkeyPatch.context() as env:  # ansible-runner passes the environment on
        if strategy is not None:
            env.setenv("ANSIBLE_STRATEGY_PLUGINS", str(INLINE_STRATEGY))
            env.setenv("ANSIBLE_STRATEGY", strategy)
        result = run_kubespray_validation(ws.state, tree, inventory, by_class=by_class)
    return result, equivalence_classes(inventory)


def task_results(result: KubesprayCheckResult) -> dict[tuple[str, str], str]:
    """(host, task) -> how each of Kubespray's inventory checks Ansible ran ended (ok,
    skipped, failed), from the run's artifacts."""
    found = {}
    for path in (result.artifact_dir / "job_events").glob("*.json"):
        event = json.loads(path.read_text())
        data = event.get("event_data", {})
        if event["event"] in ("runner_on_ok", "runner_on_skipped", "runner_on_failed") \
                and data.get("role") == "validate_inventory":
            found[(data["host"], data["task"])] = event["event"]
    return found


def test_checks_by_class_find_what_checks_on_every_host_find(tmp_path: Path) -> None:
    """Kubespray's checks on one host per class, findings spread over each class, give the
    very findings of the same checks run on every host of a few hundred, planted per-host
    errors included (each found on exactly its hosts)."""
    by_class, classes = kubespray_checks(tmp_path / "by-class", EQUIVALENCE_HOSTS, by_class=True)
    everywhere, _ = kubespray_checks(tmp_path / "everywhere", EQUIVALENCE_HOSTS, by_class=False,
                                     strategy="inline_linear")
    hosts = [f"node{i}" for i in range(EQUIVALENCE_HOSTS)]

    # Each side ran the checks where it says: every host, one host per class.
    assert (by_class.hosts_checked, everywhere.hosts_checked) == (len(classes), EQUIVALENCE_HOSTS)
    assert {h for h, _ in task_results(everywhere)} == set(hosts)
    assert {h for h, _ in task_results(by_class)} == {c.representative for c in classes}
    if EQUIVALENCE_HOSTS == 300:
        # node0+node2 (control planes), node1, 278 workers, node7+node299, node10-14, node20,
        # node151, node200-209
        assert [len(c.members) for c in classes] == [2, 1, 278, 2, 5, 1, 1, 10]

    expected = {check: {f"node{i}" for i in found} for check, found in
                planted(EQUIVALENCE_HOSTS).items() if found}
    for result in (by_class, everywhere):
        found: dict[str, set[str]] = {}
        for f in result.failures:
            found.setdefault(f.task, set()).add(f.host)
        assert found == expected
        assert not result.ok
    assert {(f.host, f.task, f.message, f.assertion) for f in by_class.failures} == {
        (f.host, f.task, f.message, f.assertion) for f in everywhere.failures}
    assert by_class.failures == everywhere.failures  # the same order too
    assert by_class.problems() == everywhere.problems()


def test_the_inline_reference_runs_kubesprays_checks_as_ansibles_linear_does(
        tmp_path: Path) -> None:
    """The reference's strategy (each task in the ``ansible-playbook`` process) gives every
    host and check the result Ansible's own ``linear`` (a worker forked per task) gives."""
    inline, _ = kubespray_checks(tmp_path / "inline", 16, by_class=False, strategy="inline_linear")
    forked, _ = kubespray_checks(tmp_path / "forked", 16, by_class=False)
    assert inline.failures == forked.failures != []
    assert task_results(inline) == task_results(forked)
    assert set(task_results(forked).values()) == {
        "runner_on_ok", "runner_on_skipped", "runner_on_failed"}
