"""Nothing that changes hosts runs unattended by accident: off a terminal, a command that would
ask refuses without --yes and records nothing; on a terminal, its checks come before the
question, and "no" is exit 130 for every command."""

from __future__ import annotations

import os
import pty
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cli.conftest import DEEPCTL, Invoke, Sandbox

TWO_HOSTS = """\
apiVersion: deepctl/v1alpha1
kind: Cluster
metadata:
  name: lab
spec:
  ssh:
    identityFile: {key}
  kubernetes:
    version: 1.34.7
  hosts:
    - name: cp1
      address: 192.0.2.11
      roles: [control-plane, etcd, worker]
    - name: wk1
      address: 192.0.2.12
      roles: [worker]
  addons:
    gpu: {{enabled: false}}
"""


@pytest.fixture
def spec(sandbox: Sandbox) -> Path:
    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen (openssh-client) is not installed")
    key = sandbox.home / "id_test"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    return sandbox.spec(TWO_HOSTS.format(key=key))


def state_files(sandbox: Sandbox) -> list[str]:
    return sorted(str(p.relative_to(sandbox.work)) for p in sandbox.work.rglob("*")
                  if ".deepctl" in p.parts)


# Each command that changes hosts and asks on a terminal, as a user types it (without --yes).
COMMANDS = {
    "deploy": ["deploy", "{spec}", "--skip", "preflight"],
    "add-node": ["add-node", "{spec}", "--name", "wk2", "--address", "192.0.2.13",
                 "--role", "worker", "--gpu", "--label", "team=ml", "--ssh-port", "2222",
                 "--ssh-user", "admin"],
    "remove-node": ["remove-node", "{spec}", "wk1"],
    "reset": ["reset", "{spec}"],
    "upgrade": ["upgrade", "{spec}", "--to", "1.35.4", "--only", "upgrade"],
}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_off_a_terminal_a_command_that_would_ask_refuses_without_yes(
        cli: Invoke, sandbox: Sandbox, spec: Path, name: str) -> None:
    args = [a.format(spec=spec) for a in COMMANDS[name]]
    before = spec.read_text()
    result = cli(*args)  # CliRunner's stdin is no terminal: cron, CI, `< /dev/null`
    assert result.exit_code == 2, result.output
    assert f"`deepctl {name}` changes hosts and asks first, but stdin is not a terminal" in (
        result.stderr)
    assert "nothing was done" in result.stderr
    if name == "add-node":  # every option kept; no `--role worker` (the default) needed
        expected = (f"deepctl add-node {spec} --name wk2 --address 192.0.2.13 --gpu --label "
                    "team=ml --ssh-port 2222 --ssh-user admin --yes")
    else:
        expected = "deepctl " + " ".join(args) + " --yes"
    assert f"hint: pass --yes to run it unattended: `{expected}`" in result.stderr
    assert "?" not in result.stdout  # never asked
    assert state_files(sandbox) == []  # no run, no ledger, no pending host, no lock
    assert spec.read_text() == before and not spec.with_name("cluster.yaml.bak").exists()


def test_the_refusal_is_a_json_error_under_json(cli: Invoke, spec: Path) -> None:
    result = cli("reset", str(spec), "--json")
    assert result.exit_code == 2
    assert '"kind": "usage"' in result.stdout and f"deepctl reset {spec} --json --yes" in (
        result.stdout)


def on_terminal(sandbox: Sandbox, *args: str, answer: bytes) -> subprocess.CompletedProcess[str]:
    """The installed deepctl with a terminal as stdin; ``answer`` is typed in advance."""
    master, slave = pty.openpty()
    try:
        os.write(master, answer)
        return subprocess.run([str(DEEPCTL), *args], stdin=slave, capture_output=True,
                              text=True, cwd=sandbox.work, env=sandbox.env(), timeout=60,
                              check=False)
    finally:
        os.close(slave)
        os.close(master)


@pytest.mark.parametrize(("kube", "args", "message"), [
    ("1.34.7", ["remove-node", "{spec}", "wk9"], "no host named 'wk9'"),
    ("1.34.7", ["remove-node", "{spec}", "cp1"], "cp1 is the last control plane"),
    ("1.33.5", ["upgrade", "{spec}", "--to", "1.35.4"], "upgrade one minor version at a time"),
    ("1.34.7", ["upgrade", "{spec}", "--to", "1.99.0"], "Kubernetes 1.99.0 is not supported"),
    ("1.34.7", ["upgrade", "{spec}", "--to", "1.33.1"], "is not newer than the current 1.34.7"),
    ("1.34.7", ["add-node", "{spec}", "--name", "wk1", "--address", "192.0.2.14"],
     "already in the spec"),
    ("1.34.7", ["upgrade", "{spec}", "--to", "1.35.4", "--only", "spec"],
     "upgrade stage spec builds on upgrade, which did not succeed"),
    ("1.34.7", ["remove-node", "{spec}", "wk1", "--only", "spec"],
     "remove-node stage spec builds on remove, which did not succeed"),
    ("1.34.7", ["add-node", "{spec}", "--name", "wk2", "--address", "192.0.2.14", "--only",
                "verify"], "add-node stage verify builds on facts, scale, spec"),
])
def test_on_a_terminal_checks_come_before_the_question(
        sandbox: Sandbox, spec: Path, kube: str, args: list[str], message: str) -> None:
    spec.write_text(spec.read_text().replace("version: 1.34.7", f"version: {kube}"))
    result = on_terminal(sandbox, *[a.format(spec=spec) for a in args], answer=b"y\n")
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert "[y/N]" not in result.stdout  # refused without ever asking
    assert state_files(sandbox) == []


@pytest.mark.parametrize(("name", "answer"), list(zip(COMMANDS, [  # no, Enter, end of input
    b"n\n", b"\n", b"\x04", b"n\n", b"\x04"], strict=True)))
def test_declining_on_a_terminal_is_exit_130_for_every_command(
        sandbox: Sandbox, spec: Path, name: str, answer: bytes) -> None:
    args = [a.format(spec=spec) for a in COMMANDS[name]]
    result = on_terminal(sandbox, *args, answer=answer)
    assert "[y/N]" in result.stdout  # it asked
    assert result.returncode == 130, result.stdout + result.stderr
    assert "declined: nothing was changed" in result.stderr
    assert state_files(sandbox) == []


def test_upgrade_lists_every_supported_version_and_the_next_steps(cli: Invoke,
                                                                  spec: Path) -> None:
    spec.write_text(spec.read_text().replace("version: 1.34.7", "version: 1.33.5"))
    unknown = cli("upgrade", str(spec), "--to", "1.36.0", "--yes")
    assert unknown.exit_code == 2, unknown.output
    assert "Kubernetes 1.36.0 is not supported by Kubespray v2.31.0" in unknown.stderr
    steps = ("from 1.33.5 upgrade to 1.34.7 (the newest of the next minor: 1.34.0-1.34.7) or "
             "a newer patch: 1.33.6-1.33.11; Kubespray v2.31.0 supports 25 versions: "
             "1.35.0-1.35.4, 1.34.0-1.34.7, 1.33.0-1.33.11")
    assert f"hint: {steps}" in unknown.stderr
    skip = cli("upgrade", str(spec), "--to", "1.35.4", "--yes")
    assert skip.exit_code == 2, skip.output
    assert "upgrade one minor version at a time: 1.33.5 -> 1.34.7 first, then 1.35.4" in (
        skip.stderr)
    assert f"hint: {steps}" in skip.stderr
    spec.write_text(spec.read_text().replace("version: 1.33.5", "version: 1.35.4"))
    newest = cli("upgrade", str(spec), "--to", "1.36.0", "--yes")
    assert "hint: 1.35.4 has no newer version Kubespray v2.31.0 supports; " in newest.stderr


def test_reset_from_dev_null_as_a_cron_job_runs_it_refuses(sandbox: Sandbox, spec: Path) -> None:
    result = subprocess.run([str(DEEPCTL), "reset", str(spec)], stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, cwd=sandbox.work, env=sandbox.env(),
                            timeout=60, check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"hint: pass --yes to run it unattended: `deepctl reset {spec} --yes`" in result.stderr
    assert state_files(sandbox) == []


def test_verify_drain_off_a_terminal_refuses_without_yes(cli: Invoke, sandbox: Sandbox,
                                                         spec: Path) -> None:
    """verify --drain cordons and drains GPU nodes: it asks first, like every command that
    changes hosts, and off a terminal it refuses without --yes."""
    result = cli("verify", str(spec), "--level", "standard", "--drain")
    assert result.exit_code == 2, result.output
    assert "`deepctl verify` changes hosts and asks first, but stdin is not a terminal" in (
        result.stderr)
    expected = f"deepctl verify {spec} --level standard --drain --yes"
    assert f"hint: pass --yes to run it unattended: `{expected}`" in result.stderr
    runs = sandbox.work / ".deepctl" / "lab" / "runs"
    assert not runs.exists() or not any(runs.iterdir())  # no run started
