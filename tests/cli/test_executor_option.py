"""``--executor ADDRESS`` on every command that runs Ansible: the same option and the same
check as on ``deploy`` (what the spec refuses for spec.executor.address is a usage error,
exit 2, before anything is asked, written or contacted)."""

from __future__ import annotations

import pytest

from tests.cli.conftest import Invoke, Sandbox
from tests.specs import MINIMAL_SPEC

SPEC = MINIMAL_SPEC.replace("  addons:", """    - name: wk1
      address: 192.0.2.12
      roles: [worker]
  kubernetes: {version: 1.34.7}
  addons:""")  # upgrade --to 1.35.4 is one minor up

COMMANDS = {
    "deploy": ["deploy", "SPEC", "--yes"],
    "add-node": ["add-node", "SPEC", "--name", "wk9", "--address", "192.0.2.99", "--yes"],
    "add-node --hosts": ["add-node", "SPEC", "--hosts", "BATCH", "--yes"],
    "remove-node": ["remove-node", "SPEC", "wk1", "--yes"],
    "upgrade": ["upgrade", "SPEC", "--to", "1.35.4", "--yes"],
    "reset": ["reset", "SPEC", "--yes"],
    "verify": ["verify", "SPEC"],
    "executor check": ["executor", "check", "SPEC"],
}


def command_line(command: str, sandbox: Sandbox) -> list[str]:
    spec = sandbox.spec(SPEC)
    batch = sandbox.work / "batch.yaml"
    batch.write_text("- name: wk9\n  address: 192.0.2.99\n  roles: [worker]\n",
                     encoding="utf-8")
    words = {"SPEC": str(spec), "BATCH": str(batch)}
    return [words.get(word, word) for word in COMMANDS[command]]


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_bad_executor_address_is_a_usage_error(command: str, sandbox: Sandbox,
                                                 cli: Invoke) -> None:
    argv = command_line(command, sandbox)
    result = cli(*argv, "--executor", "not an address")
    assert result.exit_code == 2, result.output
    assert ("error: --executor: 'not an address' is neither an IP address nor a DNS name"
            in result.stderr)
    assert "hint: give the executor's IP address or DNS name" in result.stderr
    assert not (sandbox.work / ".deepctl" / "lab" / "runs").exists()


@pytest.mark.parametrize("command", [c for c in COMMANDS if c not in ("verify", "executor check")])
def test_the_executor_option_is_in_the_command_printed_to_run_it_unattended(
        command: str, sandbox: Sandbox, cli: Invoke) -> None:
    """Off a terminal the command refuses and prints itself with --yes: --executor kept."""
    argv = [word for word in command_line(command, sandbox) if word != "--yes"]
    result = cli(*argv, "--executor", "10.0.0.5")
    assert result.exit_code == 2, result.output
    assert "--executor 10.0.0.5" in result.stderr.split("pass --yes to run it unattended")[1]
