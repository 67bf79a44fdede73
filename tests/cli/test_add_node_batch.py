"""add-node --hosts FILE: the batch's entries are checked as spec hosts (every problem at once,
at FILE:LINE with its field), --hosts is exclusive with the one-host options, and a dry run
shows the batch summarised. Nothing is contacted in these tests."""

from __future__ import annotations

import json

from deepctl.clusterspec.host_batch import cite_in_batch
from deepctl.errors import SpecProblem
from tests.cli.conftest import Invoke, Sandbox

SPEC = """\
apiVersion: deepctl/v1alpha1
kind: Cluster
metadata:
  name: lab  # a comment
spec:
  hosts:
    - name: cp1
      address: 192.0.2.11
      roles: [control-plane, etcd, worker]
    - name: wk1
      address: 192.0.2.12
      roles: [worker]
  addons:
    gpu: {enabled: false}
"""

TWO_ERRORS = """\
# new workers
- name: wk2
  address: 192.0.2.13
  roles: [worker]
- name: wk1
  address: 192.0.2.14
  roles: [worker]
- name: wk3
  address: 192.0.2.13
  roles: [worker]
"""


def test_a_batch_with_two_errors_reports_both_at_their_lines(cli: Invoke,
                                                             sandbox: Sandbox) -> None:
    spec = sandbox.spec(SPEC)
    batch = sandbox.work / "new.yaml"
    batch.write_text(TWO_ERRORS)
    result = cli("add-node", str(spec), "--hosts", str(batch), "--yes")
    assert result.exit_code == 2, result.output
    # a name already in the spec, an address used twice within the batch: both, at once
    assert (f"{batch}:5:9: [1].name: duplicate host name 'wk1' (also spec.hosts[1])"
            in result.stderr)
    assert (f"{batch}:9:12: [2].address: address 192.0.2.13 is also used by host 'wk2' "
            f"({batch}[0])") in result.stderr
    assert f"error: {batch}: 2 problems found in the new hosts" in result.stderr
    assert spec.read_text() == SPEC and not (sandbox.work / ".deepctl").exists()


def test_a_batch_adds_workers_only_and_is_checked_by_the_host_model(cli: Invoke,
                                                                    sandbox: Sandbox) -> None:
    spec = sandbox.spec(SPEC)
    batch = sandbox.work / "new.yaml"
    batch.write_text("- name: cp2\n  address: 192.0.2.21\n  roles: [control-plane]\n"
                     "- name: wk9\n  address: 192.0.2.22\n  roles: [worker]\n  colour: red\n")
    result = cli("add-node", str(spec), "--hosts", str(batch), "--yes")
    assert result.exit_code == 2, result.output
    assert (f"{batch}:3:10: [0].roles: a batch adds workers only, not control-plane: take the "
            f"entry out of {batch} and add it on its own (`deepctl add-node {spec} --name cp2 "
            "--address 192.0.2.21 --role control-plane`") in result.stderr
    assert f"{batch}:7:3: [1].colour: unknown key 'colour'" in result.stderr


def test_hosts_is_exclusive_with_the_one_host_options(cli: Invoke, sandbox: Sandbox) -> None:
    spec = sandbox.spec(SPEC)
    batch = sandbox.work / "new.yaml"
    batch.write_text("- name: wk2\n  address: 192.0.2.13\n  roles: [worker]\n")
    both = cli("add-node", str(spec), "--hosts", str(batch), "--name", "wk2", "--gpu")
    assert both.exit_code == 2, both.output
    assert "--hosts FILE adds the hosts FILE lists; --name, --gpu are for one host" in both.stderr
    missing = cli("add-node", str(spec), "--hosts", "nowhere.yaml")
    assert missing.exit_code == 2, missing.output
    assert f"error: {sandbox.work / 'nowhere.yaml'}: no such file" in missing.stderr
    assert "deepctl init" not in missing.stderr  # not a spec: nothing to create it with
    neither = cli("add-node", str(spec), "--address", "192.0.2.13")
    assert neither.exit_code == 2, neither.output
    assert "add-node needs --name (one host), or --hosts FILE (a batch)" in neither.stderr


def test_the_dry_run_shows_the_batch_summarised(cli: Invoke, sandbox: Sandbox) -> None:
    spec = sandbox.spec(SPEC)
    batch = sandbox.work / "new.yaml"
    batch.write_text("".join(f"- name: gpu{i:02d}\n  address: 192.0.2.{100 + i}\n"
                             "  roles: [worker]\n" for i in range(1, 11)))
    shown = cli("add-node", str(spec), "--hosts", str(batch), "--dry-run")
    assert shown.exit_code == 0, shown.output
    assert ("ansible-playbook scale.yml --limit the 10 new hosts: container runtime, kubelet "
            "and kubeadm join on gpu[01-10] only") in shown.stdout
    assert "gpu05" not in shown.stdout  # one line for the batch, not ten names
    plan = json.loads(cli("add-node", str(spec), "--hosts", str(batch), "--dry-run",
                          "--json").stdout)
    assert [s["name"] for s in plan["stages"] if s["runs"]] == [
        "preflight", "facts", "scale", "spec", "verify"]
    scale = next(s for s in plan["stages"] if s["name"] == "scale")
    assert scale["hosts"] == [f"gpu{i:02d}" for i in range(1, 11)]  # the full list in --json
    assert spec.read_text() == SPEC and not (sandbox.work / ".deepctl" / "lab" /
                                            "pending-nodes.json").exists()


def test_a_problem_of_a_batch_entry_is_cited_in_the_batch_file() -> None:
    problem = SpecProblem("spec.hosts[3].address", "also used by spec.hosts[2] and "
                          "spec.hosts[0]", file="cluster.yaml", line=4, column=5)
    cited = cite_in_batch(problem, 2, "new.yaml")
    assert (cited.path, cited.file, cited.line) == ("[1].address", "new.yaml", 4)
    assert cited.message == "also used by new.yaml[0] and spec.hosts[0]"
    spec_problem = SpecProblem("spec.hosts[1].name", "x", file="cluster.yaml", line=9)
    assert cite_in_batch(spec_problem, 2, "new.yaml") == spec_problem
