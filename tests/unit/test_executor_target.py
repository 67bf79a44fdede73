"""spec.executor: validation like the hosts' SSH fields, defaults from spec.ssh, the
--executor override, and the ssh command line to the executor (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from deepctl.clusterspec.loader import load_spec_text
from deepctl.errors import UsageError
from deepctl.executor.target import executor_target, ssh_argv, with_executor
from deepctl.state import StateDir
from deepctl.workspace import Workspace
from tests.unit.test_spec_rules import HEAD, ONE_HOST, SPEC_FILE, Expect, assert_one, problems

SSH = "  ssh: {user: deploy, port: 2222, identityFile: keys/id}\n"


def cluster(body: str):  # type: ignore[no-untyped-def]
    return load_spec_text(HEAD + ONE_HOST + body, SPEC_FILE).cluster


def test_executor_address_must_be_an_ip_or_dns_name() -> None:
    found = problems(ONE_HOST + "  executor: {address: 'jump host'}\n")
    assert_one(found, Expect(11, 23, "spec.executor.address", "neither an IP address"))


def test_executor_bastion_address_and_port_are_checked_like_a_hosts() -> None:
    found = problems(ONE_HOST + "  executor:\n    address: 10.0.0.5\n    port: 70000\n"
                     "    bastion: {address: 'a b'}\n")
    assert_one(found, Expect(13, 11, "spec.executor.port", "less than or equal to 65535"))
    assert_one(found, Expect(14, 24, "spec.executor.bastion.address", "neither an IP address"))


def test_executor_login_defaults_to_spec_ssh_and_keys_resolve_beside_the_spec() -> None:
    c = cluster(SSH + "  executor: {address: exec.lab}\n")
    target = executor_target(c, Path("/st/known_hosts"), Path("/specs"))
    assert target is not None
    assert (target.login.user, target.login.port, target.login.identity_file) == (
        "deploy", 2222, Path("/specs/keys/id"))
    assert target.bastion is None
    assert executor_target(cluster(""), Path("/k"), None) is None


def test_ssh_argv_checks_host_keys_against_the_clusters_known_hosts() -> None:
    c = cluster(SSH + "  executor:\n    address: 10.0.0.5\n    user: runner\n"
                "    bastion: {address: jump.lab, port: 2200}\n")
    target = executor_target(c, Path("/st/known_hosts"), Path("/specs"))
    assert target is not None
    argv = ssh_argv(target, "true")
    assert argv[:5] == ["ssh", "-p", "2222", "-i", "/specs/keys/id"]
    assert argv[-3:] == ["runner@10.0.0.5", "--", "true"]
    options = [argv[i + 1] for i, a in enumerate(argv) if a == "-o"]
    assert "StrictHostKeyChecking=yes" in options and "BatchMode=yes" in options
    assert "UserKnownHostsFile=/st/known_hosts" in options
    proxy = next(o for o in options if o.startswith("ProxyCommand="))
    assert "-W %h:%p -p 2200" in proxy and "StrictHostKeyChecking=yes" in proxy
    assert "runner@jump.lab" in proxy


def workspace(body: str) -> Workspace:
    loaded = load_spec_text(HEAD + ONE_HOST + body, SPEC_FILE)
    return Workspace(loaded, StateDir(Path("/st")))


def test_executor_option_overrides_the_address_only() -> None:
    ws = with_executor(workspace("  executor: {address: 10.0.0.5, user: runner}\n"), "10.0.0.6")
    executor = ws.cluster.spec.executor
    assert executor is not None and (executor.address, executor.user) == ("10.0.0.6", "runner")
    fresh = with_executor(workspace(""), "exec.lab").cluster.spec.executor
    assert fresh is not None and fresh.address == "exec.lab"
    same = workspace("")
    assert with_executor(same, None) is same


def test_executor_option_refuses_what_the_spec_would() -> None:
    with pytest.raises(UsageError, match="--executor: 'a b' is neither an IP address"):
        with_executor(workspace(""), "a b")


def test_mitogen_is_refused_with_an_executor() -> None:
    found = problems(ONE_HOST + "  ansible: {strategy: mitogen}\n  executor: {address: 10.0.0.5}\n")
    assert_one(found, Expect(11, 23, "spec.ansible.strategy", "not supported with spec.executor"))
