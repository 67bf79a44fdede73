"""`deepctl import` writes what Ansible would have done, or refuses (issue 22): secrets and
connection settings refused naming the variable and FILE:LINE (never the value); the address,
user, port and key Ansible's own ssh plugin would use; the written spec reads back to exactly
the values imported (YAML 1.1's special scalars); FQDN host names; deepctl's own rendering
imported back (import(render(spec)) == spec for every example); no hosts, not an inventory,
the bastion group; deepctl's defaults said."""

from __future__ import annotations

import io
import json
import math
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml

from deepctl.clusterspec.loader import load_spec, load_spec_text
from deepctl.importer.convert import convert
from deepctl.importer.listing import InventoryListing, list_inventory
from deepctl.importer.writer import spec_text
from deepctl.kubevars.render import needs_helm, render_inventory, write_inventory
from tests.cli.conftest import Invoke, Sandbox

ROOT = Path(__file__).resolve().parents[2]
SECRET = "Hunter2-not-for-logs"
HOSTS = """\
all:
  hosts:
    node1: {ansible_host: 192.0.2.11}
    node2: {ansible_host: 192.0.2.12}
  children:
    kube_control_plane: {hosts: {node1: }}
    etcd: {hosts: {node1: }}
    kube_node: {hosts: {node2: }}
"""


def inventory(root: Path, hosts: str = HOSTS, group_vars: str = "",
              host_vars: dict[str, str] | None = None) -> Path:
    (root / "group_vars" / "all").mkdir(parents=True)
    (root / "hosts.yaml").write_text(hosts)
    (root / "group_vars" / "all" / "main.yml").write_text(group_vars)
    for host, text in (host_vars or {}).items():
        (root / "host_vars").mkdir(exist_ok=True)
        (root / "host_vars" / f"{host}.yml").write_text(text)
    return root


def files_holding(root: Path, text: str, but: Path) -> list[str]:
    return [str(p) for p in root.rglob("*") if p.is_file() and not p.is_relative_to(but)
            and text in p.read_text(errors="replace")]


# -- secrets and connection settings: refused, named where set, never echoed ------------------
def test_become_passwords_and_connection_settings_are_refused_naming_where(
    cli: Invoke, sandbox: Sandbox
) -> None:
    group_vars = (f"ansible_become_password: {SECRET}\nansible_become_pass: {SECRET}\n"
                  f"ansible_sudo_pass: {SECRET}\n"
                  "ansible_ssh_args: -o StrictHostKeyChecking=no\n"
                  "ansible_become_method: su\nansible_become_user: admin\n"
                  "ansible_host_key_checking: false\n"
                  f"cinder_password: {SECRET}\n")
    inv = inventory(sandbox.work / "inv", group_vars=group_vars,
                    host_vars={"node2": f"ansible_ssh_pass: {SECRET}\n"})
    result = cli("import", str(inv), "-o", "c.yaml")
    assert result.exit_code == 2
    err = " ".join(result.stderr.split())
    for line, name in enumerate(["ansible_become_password", "ansible_become_pass",
                                 "ansible_sudo_pass"], 1):
        assert (f"{name} (hosts node1, node2; set in group_vars/all/main.yml:{line}) is a "
                "login or sudo password") in err, err
    assert ("ansible_ssh_pass (hosts node2; set in host_vars/node2.yml:1) is a login or sudo "
            "password") in err
    for name in ("ansible_ssh_args", "ansible_become_method", "ansible_become_user",
                 "ansible_host_key_checking"):
        assert f"{name} (hosts node1, node2; set in group_vars/all/main.yml:" in err
    assert "cinder_password (hosts node1, node2; set in group_vars/all/main.yml:8) holds a " \
           "password in plain text" in err
    # issue 22 §2: the password reaches no output, no spec and no file deepctl wrote
    assert SECRET not in result.stdout + err
    assert not (sandbox.work / "c.yaml").exists()
    assert files_holding(sandbox.root, SECRET, but=inv) == []


def test_a_vault_value_is_refused_naming_the_variable_and_file(
    cli: Invoke, sandbox: Sandbox
) -> None:
    from ansible.parsing.vault import VaultLib, VaultSecret

    cipher = VaultLib([("default", VaultSecret(b"pw"))]).encrypt(SECRET).decode()
    vaulted = "registry_token: !vault |\n" + "".join(f"  {line}\n" for line in cipher.splitlines())
    inv = inventory(sandbox.work / "inv", group_vars="kube_network_plugin: calico\n" + vaulted)
    result = cli("import", str(inv), "-o", "c.yaml")
    assert result.exit_code == 2
    assert ("registry_token (hosts node1, node2; set in group_vars/all/main.yml:2) is encrypted "
            "with Ansible Vault") in result.stderr, result.stderr
    assert "__ansible_vault" not in result.stderr and not (sandbox.work / "c.yaml").exists()


# -- the address, user, port and key Ansible uses ---------------------------------------------
PAIRS = {"address": ("ansible_host", "ansible_ssh_host", "host", "192.0.2.7", "192.0.2.8"),
         "user": ("ansible_user", "ansible_ssh_user", "remote_user", "alice", "bob"),
         "port": ("ansible_port", "ansible_ssh_port", "port", 2201, 2202),
         "identityFile": ("ansible_private_key_file", "ansible_ssh_private_key_file",
                          "private_key_file", "/keys/a", "/keys/b")}


def ansible_choice(variables: dict[str, Any], option: str) -> Any:
    """What Ansible's own ssh connection plugin resolves ``option`` to for these host vars."""
    from ansible.playbook.play_context import PlayContext
    from ansible.plugins.loader import connection_loader

    plugin = connection_loader.get("ssh", PlayContext(), io.StringIO())
    plugin.set_options(var_options=variables)
    return plugin.get_option(option)


def one_host(variables: dict[str, Any], name: str = "node1") -> InventoryListing:
    groups = {"all": [name], "kube_control_plane": [name], "etcd": [name], "kube_node": [name]}
    return InventoryListing(Path("/inv/hosts.yaml"), {name: variables}, groups)


@pytest.mark.parametrize("key", sorted(PAIRS))
@pytest.mark.parametrize("given", ["first", "second", "both-same", "both-different"])
def test_connection_settings_are_the_ones_ansible_uses(key: str, given: str) -> None:
    first, second, option, value1, value2 = PAIRS[key]
    variables = {"first": {first: value1}, "second": {second: value2},
                 "both-same": {first: value1, second: value1},
                 "both-different": {first: value1, second: value2}}[given]
    result = convert(one_host(variables), name="lab", user="u", identity_file="/keys/u")
    expected = ansible_choice(variables, option)
    if given == "both-different":
        assert result.problems == [f"host 'node1': {first} ({value1}) and {second} ({value2}) "
                                   f"differ; Ansible uses {second}: keep one"]
        assert expected == value2  # the one the message says Ansible uses
        return
    assert result.problems == []
    host = result.spec["spec"]["hosts"][0]
    got = host["address"] if key == "address" else {
        **result.spec["spec"]["ssh"], **host.get("ssh", {})}[key]
    assert got == expected


# -- the written spec reads back to exactly the values imported --------------------------------
YAML11_SPECIALS = ["yes", "no", "Yes", "NO", "on", "off", "On", "OFF", "y", "n", "Y", "N",
                   "true", "false", "True", "FALSE", "null", "Null", "~", "", " ", "1:30",
                   "-1:30:00", "190:20:30", "0755", "0o755", "0x1F", "0b101", "1_000", "+12",
                   "1e3", "1.5", ".5", "6.8523015e+5", ".inf", "-.Inf", ".nan", "2001-12-14",
                   "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5", "=", "<<",
                   "- a", "a: b", "#x", "@x", "`x", "!x", "&x", "*x", "|", ">", "%x", "'", '"',
                   "{a}", "[a]", "a\nb", "tab\there", "trailing ", "ünïcode", "\x85", "0", "-0"]


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def test_the_spec_reads_back_to_exactly_the_values_imported(tmp_path: Path) -> None:
    values: dict[str, Any] = {f"my_var_{i}": text for i, text in enumerate(YAML11_SPECIALS)}
    values.update(my_int=1, my_float=1.5, my_inf=math.inf, my_nan=math.nan, my_true=True,
                  my_none=None, my_list=["yes", "off", 1, "1:30"], my_map={"on": "off", "y": "n"})
    label_values = {f"l{i}": v for i, v in enumerate(["yes", "off", "0755", "1_0", "null", "0x1F"])}
    listing = one_host({"ansible_host": "192.0.2.7", **values, "node_labels": label_values})
    result = convert(listing, name="lab", user="u", identity_file="/keys/u")
    assert result.problems == []
    text = spec_text(result, "/inv/hosts.yaml")
    assert same(yaml.safe_load(text), result.spec)
    loaded = load_spec_text(text, tmp_path / "c.yaml")  # deepctl's own loader (YAML 1.1)
    assert same(dict(loaded.cluster.spec.kubespray_vars), values)
    assert loaded.cluster.spec.hosts[0].labels == label_values


# -- FQDN host names ---------------------------------------------------------------------------
def test_fqdn_host_names_are_imported_as_node_names(tmp_path: Path) -> None:
    result = convert(one_host({"ansible_host": "192.0.2.7"}, name="gpu01.lab"), name="lab",
                     user="u", identity_file="/keys/u")
    loaded = load_spec_text(spec_text(result, "/inv/hosts.yaml"), tmp_path / "c.yaml")
    assert loaded.cluster.spec.hosts[0].name == "gpu01.lab"


# -- deepctl's own rendering -------------------------------------------------------------------
CARRIED = ("kubernetes", "ssh", "hosts", "kubespray_vars")  # what an inventory says


def carried(spec_data: dict[str, Any]) -> dict[str, Any]:
    return {k: spec_data[k] for k in CARRIED}


@pytest.mark.parametrize("example", sorted(p.name for p in (ROOT / "examples").glob("*.yaml")))
def test_import_of_the_rendered_inventory_is_the_spec(example: str, tmp_path: Path) -> None:
    original = load_spec(ROOT / "examples" / example).cluster
    write_inventory(tmp_path / "inventory", render_inventory(original, example))
    result = convert(list_inventory(tmp_path / "inventory"), name=original.name)
    assert result.problems == []
    back = load_spec_text(spec_text(result, "inventory"), tmp_path / "c.yaml").cluster
    want = original.spec.model_dump(mode="json")
    # helm_enabled, which deepctl derives from addons that use helm, comes back explicit
    want["kubernetes"]["helm"] = original.spec.kubernetes.helm or needs_helm(original) or None
    assert carried(back.spec.model_dump(mode="json")) == carried(want)
    assert back.spec.addons.gpu.enabled == original.spec.addons.gpu.enabled
    assert back.name == original.name


# -- not an inventory, no hosts, the bastion group, deepctl's defaults --------------------------
def test_an_inventory_without_hosts_says_so(cli: Invoke, sandbox: Sandbox) -> None:
    inv = inventory(sandbox.work / "empty", hosts="all:\n  hosts: {}\n")
    result = cli("import", str(inv), "-o", "c.yaml")
    assert result.exit_code == 2
    assert f"{inv / 'hosts.yaml'}: the inventory has no hosts" in result.stderr
    assert "List should have at least 1 item" not in result.stderr


def test_etc_passwd_is_not_an_inventory(cli: Invoke, sandbox: Sandbox) -> None:
    result = cli("import", "/etc/passwd", "-o", "c.yaml")
    assert result.exit_code == 2
    assert "/etc/passwd: not an inventory of a Kubespray cluster: none of the" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 2, result.stderr  # one reason, one summary


def test_the_bastion_group_becomes_spec_ssh_bastion(cli: Invoke, sandbox: Sandbox) -> None:
    hosts = HOSTS.replace("  children:\n", "    bastion: {ansible_host: 198.51.100.5, "
                          "ansible_user: jump, ansible_port: 2222}\n  children:\n")
    hosts += "    bastion: {hosts: {bastion: }}\n"
    inv = inventory(sandbox.work / "inv", hosts=hosts,
                    group_vars="ansible_user: ops\nansible_ssh_private_key_file: /keys/ops\n")
    result = cli("import", str(inv), "-o", "c.yaml")
    assert result.exit_code == 0, result.output
    data = yaml.safe_load((sandbox.work / "c.yaml").read_text())
    assert data["spec"]["ssh"]["bastion"] == {"address": "198.51.100.5", "user": "jump",
                                              "port": 2222, "identityFile": "/keys/ops"}
    assert [h["name"] for h in data["spec"]["hosts"]] == ["node1", "node2"]


def test_the_spec_says_which_user_and_key_it_uses_when_the_inventory_names_none(
    cli: Invoke, sandbox: Sandbox
) -> None:
    inv = inventory(sandbox.work / "inv")
    result = cli("import", str(inv), "-o", "c.yaml")
    assert result.exit_code == 0, result.output
    out = " ".join(result.stdout.split())
    assert ("hosts node1, node2 have no ansible_user: the spec uses deepctl's default "
            "spec.ssh.user ubuntu (Ansible would log in as the user running it); pass --user "
            "to choose") in out
    assert "spec.ssh.identityFile ~/.ssh/id_ed25519" in out and "pass --identity-file" in out
    text = (sandbox.work / "c.yaml").read_text()
    assert "    user: ubuntu  # deepctl's default: the inventory names none\n" in text
    assert stat.S_IMODE((sandbox.work / "c.yaml").stat().st_mode) == 0o600
    report = json.loads(cli("import", str(inv), "-o", "d.yaml", "--user", "ops",
                            "--identity-file", "/k", "--json").stdout)
    assert report["defaults"] == []


def test_import_of_the_rendered_inventory_is_the_spec_at_5000_hosts(tmp_path: Path) -> None:
    """Issue 24: import(render(spec)) == spec at the size GPU clusters run (3 control planes,
    4,997 GPU workers with labels; speed is benchmark 9's, bench/import_scale.py)."""
    hosts = [{"name": f"cp{i}", "address": f"192.0.2.{i}", "roles": ["control-plane", "etcd"]}
             for i in (1, 2, 3)]
    hosts += [{"name": f"gpu{i:04d}.lab", "address": f"10.{i // 65536}.{(i // 256) % 256}.{i % 256}",
               "roles": ["worker"], "gpu": True, "labels": {"rack": f"r{i // 40}"}}
              for i in range(4, 5001)]
    data = {"apiVersion": "deepctl/v1alpha1", "kind": "Cluster", "metadata": {"name": "big"},
            "spec": {"kubernetes": {"podSubnet": "10.64.0.0/10", "serviceSubnet": "10.32.0.0/16",
                                    "helm": True},
                     "ssh": {"user": "ops", "identityFile": "/keys/ops"},
                     "kubesprayVars": {"download_run_once": True, "my_flag": "yes"},
                     "addons": {"gpu": {"enabled": True}, "monitoring": {"enabled": False}},
                     "hosts": hosts}}
    original = load_spec_text(yaml.safe_dump(data), tmp_path / "big.yaml").cluster
    write_inventory(tmp_path / "inventory", render_inventory(original, "big.yaml"))
    result = convert(list_inventory(tmp_path / "inventory"), name="big")
    assert result.problems == []
    back = load_spec_text(spec_text(result, "inventory"), tmp_path / "c.yaml").cluster
    assert carried(back.spec.model_dump(mode="json")) == carried(original.spec.model_dump(mode="json"))
    assert back.spec.addons.gpu.enabled


GENERATOR = """\
plugin: ansible.builtin.generator
hosts:
  name: "node{{ n }}"
  parents: [{name: kube_control_plane}, {name: etcd}, {name: kube_node}]
layers:
  n: ["1", "2", "3"]
"""


def test_an_inventory_plugin_configuration_is_still_read_by_ansibles_auto_plugin(
    cli: Invoke, sandbox: Sandbox
) -> None:
    """Plain hosts files are listed without Ansible's ``auto`` plugin (it parsed every YAML
    hosts file twice: a quarter of the CPU at 5,000 hosts); a plugin configuration keeps it."""
    from deepctl.importer.listing import is_plugin_config

    inv = sandbox.work / "generated"
    inv.mkdir()
    (inv / "hosts.yml").write_text(GENERATOR)
    assert is_plugin_config(inv / "hosts.yml")
    assert not is_plugin_config(inventory(sandbox.work / "plain") / "hosts.yaml")
    result = cli("import", str(inv), "-o", "c.yaml", "--user", "u", "--identity-file", "/k")
    assert result.exit_code == 0, result.output
    data = yaml.safe_load((sandbox.work / "c.yaml").read_text())
    assert [h["name"] for h in data["spec"]["hosts"]] == ["node1", "node2", "node3"]
