"""`deepctl vars SPEC [--json]` through the real CLI."""

from __future__ import annotations

import json

from tests.cli.conftest import MINIMAL_SPEC, Invoke, Sandbox


def test_vars_prints_each_variable_with_source_and_default(cli: Invoke, sandbox: Sandbox) -> None:
    spec = sandbox.spec(MINIMAL_SPEC.replace("spec:\n", "spec:\n  kubernetes:\n"
                                             "    containerRuntime: docker\n", 1))
    result = cli("vars", str(spec))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "  container_manager = docker    [field: spec.kubernetes.containerRuntime]  differs " \
           "from Kubespray's default containerd" in lines
    assert any(line.startswith("  kubeconfig_localhost = true    [derived: ") for line in lines)
    assert "  ansible_user = ubuntu    on cp1" in lines  # one host: named


def test_vars_json_is_one_document_on_stdout(cli: Invoke, sandbox: Sandbox) -> None:
    result = cli("vars", str(sandbox.spec()), "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    names = [v["name"] for v in data["variables"]]
    assert names[0] == "kube_version" and "loadbalancer_apiserver_localhost" not in names
    assert data["variables"][0]["differs"] == "no"


def test_vars_on_an_invalid_spec_is_exit_2(cli: Invoke, sandbox: Sandbox) -> None:
    bad = sandbox.spec(MINIMAL_SPEC + "  kubesprayVars:\n    ansible_ssh_port: 2222\n")
    result = cli("vars", str(bad))
    assert result.exit_code == 2
    assert f"{bad}:13:5: spec.kubesprayVars.ansible_ssh_port: 'ansible_ssh_port' is an " \
           "Ansible connection variable" in result.stderr


def test_vars_shows_what_ansible_makes_of_a_template(cli: Invoke, sandbox: Sandbox) -> None:
    """Issue 22: not "same as Kubespray's default cluster.local" when cluster_name is set."""
    spec = sandbox.spec(MINIMAL_SPEC + "  kubesprayVars:\n    cluster_name: lab.example\n"
                        '    dns_domain: "{{ cluster_name }}"\n')
    result = cli("vars", str(spec))
    assert result.exit_code == 0, result.output
    assert ("  dns_domain = {{ cluster_name }} (= lab.example)    [kubesprayVars: "
            "spec.kubesprayVars.dns_domain]  same as Kubespray's default lab.example "
            '("{{ cluster_name }}" here)') in result.stdout.splitlines()
    assert [line for line in result.stdout.splitlines() if "cluster.local" in line] == [
        "  cluster_name = lab.example    [kubesprayVars: spec.kubesprayVars.cluster_name]  "
        "differs from Kubespray's default cluster.local"]
    data = json.loads(cli("vars", str(spec), "--json").stdout)
    row = next(v for v in data["variables"] if v["name"] == "dns_domain")
    assert (row["evaluatedValue"], row["kubesprayDefaultValue"], row["differs"]) == (
        "lab.example", "lab.example", "no")
