"""Nothing in the spec changes how deepctl reaches or becomes root on hosts: every variable the
installed ansible-core's ssh (and paramiko_ssh) connection plugin, its become plugins and its
play context read is refused at FILE:LINE in kubesprayVars, and so is every password. The list
is computed here from Ansible itself, a second way (the plugins' documentation, read with
ansible's own docstring reader), independently of deepctl's generated package data."""

from __future__ import annotations

import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
import yaml

from deepctl.clusterspec.loader import load_spec_text
from deepctl.errors import SpecError
from tests.specs import MINIMAL_SPEC

ROOT = Path(__file__).resolve().parents[2]


@cache
def ansible_connection_names() -> frozenset[str]:
    """Every variable name that an option of ssh, paramiko_ssh or a become plugin documents in
    its ``vars:``, and every name of Ansible's play-context variable mapping."""
    from ansible import constants
    from ansible.plugins.loader import become_loader, connection_loader, fragment_loader
    from ansible.utils.plugin_docs import get_docstring

    paths = [connection_loader.find_plugin_with_context(name).plugin_resolved_path
             for name in ("ssh", "paramiko_ssh")]
    paths += [plugin._original_path for plugin in become_loader.all(class_only=True)]
    names: set[str] = set()
    for path in paths:
        doc = get_docstring(path, fragment_loader)[0]
        for option in doc["options"].values():
            names.update(str(v["name"]) for v in option.get("vars", []))
    for variables in constants.MAGIC_VARIABLE_MAPPING.values():
        names.update(variables)
    return frozenset(n for n in names if n.isidentifier())


def refused(variables: dict[str, object], *, on_host: bool = False) -> dict[str, str]:
    """variable -> the error deepctl gives for it (FILE:LINE and message)."""
    data = yaml.safe_load(MINIMAL_SPEC)
    if on_host:
        data["spec"]["hosts"][0]["kubesprayVars"] = variables
    else:
        data["spec"]["kubesprayVars"] = variables
    text = yaml.safe_dump(data, sort_keys=False)
    try:
        load_spec_text(text, Path("/spec/cluster.yaml"))
    except SpecError as error:
        return {p.path.rsplit(".", 1)[-1]: f"{p.location()}: {p.message}"
                for p in error.problems if p.severity == "error"}
    return {}


def test_the_list_is_ansibles_own_and_long() -> None:
    names = ansible_connection_names()
    assert {"ansible_ssh_args", "ansible_host_key_checking", "ansible_ssh_host_key_checking",
            "ansible_password", "ansible_become_password", "ansible_become_method",
            "ansible_become_user", "ansible_sudo_pass", "ansible_ssh_pass"} <= names
    assert len(names) > 60


@pytest.mark.parametrize("on_host", [False, True], ids=["cluster", "host"])
def test_every_connection_and_become_variable_is_refused_at_its_line(on_host: bool) -> None:
    names = sorted(ansible_connection_names())
    errors = refused({name: "x" for name in names}, on_host=on_host)
    accepted = [name for name in names if name not in errors]
    assert accepted == []
    assert "/spec/cluster.yaml:" in errors["ansible_ssh_args"]
    assert "ssh_args" in errors["ansible_ssh_args"]
    assert "nothing in the spec may change how deepctl reaches a host" in errors[
        "ansible_become_method"]


@pytest.mark.parametrize("name", ["cinder_password", "external_openstack_password",
                                  "rh_subscription_password", "kube_vip_bgp_peerpass",
                                  "registry_htpasswd", "external_oracle_auth_passphrase",
                                  "my_db_pass"])
def test_every_password_is_refused_and_not_echoed(name: str) -> None:
    errors = refused({name: "S3cret-value"})
    assert f"{name!r} holds a password" in errors[name]
    assert "S3cret-value" not in errors[name]
    # the hint runs as printed: the lookup it suggests is accepted
    assert refused({name: "{{ lookup('file', '/path/to/file') }}"}) == {}


def test_the_generated_list_is_current_for_the_installed_ansible_core() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_ansible_connection_vars.py"),
                             "--check"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    from deepctl.clusterspec.kubespray_rules import ansible_connection_variables

    assert set(ansible_connection_variables()) == ansible_connection_names()
