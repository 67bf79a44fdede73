"""Human output at 5,000 hosts: every list of hosts summarised (``names.summary``), no line
wider than 200 columns off a terminal, a screenful of lines, in every command's plan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import Invoke, Sandbox

HOSTS = 5000
WIDTH = 200  # off a terminal (tables.OFF_TERMINAL)


def big_spec(hosts: int, version: str = "1.35.4") -> str:
    """3 control planes, then workers, every other one with GPUs, 40 to a rack."""
    lines = ["apiVersion: deepctl/v1alpha1", "kind: Cluster", "metadata: {name: big}", "spec:",
             f"  kubernetes: {{version: {version}, podSubnet: 10.64.0.0/10, "
             "serviceSubnet: 10.32.0.0/16, nodePrefix: 24}", "  hosts:"]
    for i in range(hosts):
        roles = "[control-plane, etcd]" if i < 3 else "[worker]"
        lines.append(f"    - {{name: gpu{i:04d}, address: 172.16.{i // 256}.{i % 256}, "
                     f"roles: {roles}, gpu: {'true' if i >= 3 and i % 2 else 'false'}, "
                     f"labels: {{rack: r{i // 40}}}}}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def spec_text() -> str:
    return big_spec(HOSTS)


def readable(text: str, max_lines: int) -> list[str]:
    lines = text.splitlines()
    assert len(lines) <= max_lines, f"{len(lines)} lines"
    widest = max(lines, key=len)
    assert len(widest) <= WIDTH, f"{len(widest)} columns: {widest[:120]}..."
    return lines


def test_deploy_plan_at_5000_hosts(cli: Invoke, sandbox: Sandbox, spec_text: str) -> None:
    result = cli("deploy", str(sandbox.spec(spec_text)), "--dry-run")
    assert result.exit_code == 0, result.output
    # hosts per role, the stage decisions, what each stage does: a screenful
    text = "\n".join(readable(result.stdout, 60))
    assert "gpu[0003-4999]" in text  # the workers, one range
    # the verify stage's GPU hosts: a count and a few names, not 2,499 of them
    assert "CUDA smoke Job" in text and "2499 hosts: gpu0003, gpu0005" in text
    assert text.count("gpu") < 100


def test_add_node_and_upgrade_plans_at_5000_hosts(cli: Invoke, sandbox: Sandbox,
                                                  spec_text: str) -> None:
    spec = sandbox.spec(spec_text)
    result = cli("add-node", str(spec), "--name", "gpu5000", "--address", "172.16.200.1",
                 "--gpu", "--dry-run")
    assert result.exit_code == 0, result.output
    readable(result.stdout, 40)
    older = sandbox.spec(big_spec(HOSTS, "1.35.3"), "older.yaml")
    result = cli("upgrade", str(older), "--to", "1.35.4", "--dry-run")
    assert result.exit_code == 0, result.output
    text = "\n".join(readable(result.stdout, 40))
    assert text.count("gpu") < 100


def test_vars_at_5000_hosts_by_value(cli: Invoke, sandbox: Sandbox, spec_text: str) -> None:
    spec = sandbox.spec(spec_text)
    result = cli("vars", str(spec))
    assert result.exit_code == 0, result.output
    lines = readable(result.stdout, 60)
    assert "  ansible_user = ubuntu    on every host" in lines
    assert "  ansible_host = 172.16.0.0    on gpu0000" in lines
    assert "  ansible_host: 4992 other values on 4992 hosts" in lines
    assert ('  node_labels = {"nvidia.com/gpu.deploy.operands": "false", "rack": "r0"}    on '
            "21 hosts: gpu[0000-0002], gpu0004, gpu0006, gpu0008, gpu0010, gpu0012, gpu0014, "
            "gpu0016 and 11 more") in lines
    # --json keeps every host's every value
    hosts = json.loads(cli("vars", str(spec), "--json").stdout)["hosts"]
    assert len(hosts) == HOSTS and hosts["gpu4999"]["ansible_host"] == "172.16.19.135"


def test_vars_on_a_few_hosts_names_each(cli: Invoke, sandbox: Sandbox, tmp_path: Path) -> None:
    result = cli("vars", str(sandbox.spec(big_spec(5))))
    lines = result.stdout.splitlines()
    assert "  ansible_host = 172.16.0.4    on gpu0004" in lines
    assert ('  node_labels = {"nvidia.com/gpu.present": "true", "rack": "r0"}    on gpu0003'
            in lines)
