"""add-node leaves the spec file alone until the host has joined: a failed add says the host
is pending outside the spec and how to drop it, cites only lines of the file on disk, names
the host once, and its resume hint keeps every option given."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from deepctl.engine.nodes import problems_on_disk
from deepctl.errors import SpecProblem
from tests.cli.conftest import Invoke, Sandbox

STANDIN = Path(__file__).resolve().parents[1] / "fixtures" / "kubespray-standin"
SPEC = """\
apiVersion: deepctl/v1alpha1
kind: Cluster
metadata:
  name: lab  # keep this comment
spec:
  ssh:
    identityFile: {key}
  kubespray:
    path: {standin}
  hosts:
    - name: cp1
      address: 127.0.0.250
      roles: [control-plane, etcd, worker]
  addons:
    gpu: {{enabled: false}}
# trailing comment
"""


@pytest.fixture
def spec(sandbox: Sandbox) -> Path:
    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen (openssh-client) is not installed")
    key = sandbox.home / "id_test"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    return sandbox.spec(SPEC.format(key=key, standin=STANDIN))


def test_a_failed_add_node_leaves_the_spec_alone_says_so_and_is_dropped(
        cli: Invoke, sandbox: Sandbox, spec: Path) -> None:
    original = spec.read_text()
    state = sandbox.work / "state"
    options = ["--name", "n2", "--address", "127.0.0.251", "--internal-address", "10.9.0.2",
               "--role", "control-plane", "--role", "worker", "--label", "team=ml",
               "--taint", "gpu=true:NoSchedule", "--ssh-port", "2222", "--ssh-user", "admin",
               "--state-dir", str(state), "--accept-new-hosts"]
    failed = cli("add-node", str(spec), *options, "--yes")  # nothing listens on 127.0.0.251
    assert failed.exit_code == 3, failed.output
    assert spec.read_text() == original and not spec.with_name("cluster.yaml.bak").exists()
    assert "  n2: admin@127.0.0.251:2222: cannot connect" in failed.stderr  # the host once
    assert "n2: n2:" not in failed.output
    assert f"resume with: deepctl add-node {spec} {' '.join(options)} --yes;" in failed.stderr
    assert (f"n2 is not in {spec}: add-node writes it there once it has joined; until then it "
            f"is pending in {state / 'pending-nodes.json'}. To drop it instead: `deepctl "
            f"remove-node {spec} n2`") in failed.stderr
    assert "deepctl preflight" not in failed.stderr  # it would not check n2: not in the spec
    assert f"n2 is pending in {state / 'pending-nodes.json'}" in failed.stdout
    assert list(json.loads((state / "pending-nodes.json").read_text())["nodes"]) == ["n2"]

    again = cli("add-node", str(spec), *options, "--yes")  # the resume hint, as printed
    assert again.exit_code == 3, again.output
    assert "resuming add-node n2: it is not in the spec yet and still pending" in again.stdout

    # only checked, never changed: dropping it is forgetting it (no run, no host contacted,
    # no question: nothing on a host changes)
    dropped = cli("remove-node", str(spec), "n2", "--state-dir", str(state))
    assert dropped.exit_code == 0, dropped.output
    assert ("n2 was pending and add-node only checked it (nothing on it changed): forgotten; "
            f"{spec} is unchanged") in dropped.stdout
    assert json.loads((state / "pending-nodes.json").read_text())["nodes"] == {}
    runs = json.loads(cli("runs", str(spec), "--state-dir", str(state), "--json").stdout)
    assert [r["command"] for r in runs["runs"]] == ["add-node", "add-node"]
    assert spec.read_text() == original
    gone = cli("remove-node", str(spec), "n2", "--state-dir", str(state), "--yes")
    assert gone.exit_code == 2 and "no host named 'n2'" in gone.stderr


def test_spec_problems_of_the_new_host_cite_the_options_not_lines_that_are_not_in_the_file(
        cli: Invoke, spec: Path) -> None:
    result = cli("add-node", str(spec), "--name", "n2", "--address", "127.0.0.251",
                 "--label", "team=not a valid value", "--yes")
    assert result.exit_code == 2, result.output
    assert "add-node --name n2 options: spec.hosts[1].labels" in result.stderr
    assert f"hint: {spec} is unchanged: fix the add-node options named above" in result.stderr
    lines = len(spec.read_text().splitlines())
    for cited in (int(n) for n in re.findall(rf"{spec}:(\d+)", result.output)):
        assert cited <= lines


def test_problems_after_the_new_entry_move_up_to_their_line_on_disk() -> None:
    old = "a\nb\nc\nd\n"
    new = "a\nb\nX1\nX2\nc\nd\n"  # two lines inserted after line 2
    problems = [SpecProblem("p", "m", file="s.yaml", line=n) for n in (1, 3, 4, 5, 6)]
    moved = problems_on_disk(problems, old, new, "s.yaml", "n2")
    assert [(p.file, p.line) for p in moved] == [
        ("s.yaml", 1), ("add-node --name n2 options", None), ("add-node --name n2 options", None),
        ("s.yaml", 3), ("s.yaml", 4)]
