"""deepctl.kubevars.render: spec -> Kubespray inventory, compared byte for byte with golden files,
and proof with real Ansible that user strings are read literally (``!unsafe``).

Golden files live in tests/golden/<example>/: spec.yaml and the expected inventory/ tree.
After an intended change of the rendering, regenerate them and review the diff:
    DEEPCTL_UPDATE_GOLDEN=1 .venv/bin/pytest tests/unit/test_inventory.py
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from deepctl.clusterspec.loader import load_spec
from deepctl.clusterspec.models import Cluster
from deepctl.kubevars.render import (
    ALL_VARS_FILE,
    HOSTS_FILE,
    USER_VARS_FILE,
    Unsafe,
    dump_yaml,
    needs_helm,
    render_all_vars,
    render_hosts,
    render_inventory,
    write_inventory,
)

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
EXAMPLES = sorted(p.name for p in GOLDEN.iterdir() if (p / "spec.yaml").is_file())
UPDATE = os.environ.get("DEEPCTL_UPDATE_GOLDEN") == "1"
HOSTILE = "{{ lookup('pipe','id') }}"
VENV_BIN = Path(sys.executable).parent


class Tagged(str):
    """A string that was tagged ``!unsafe`` in the rendered YAML."""


class InventoryLoader(yaml.SafeLoader):
    pass


InventoryLoader.add_constructor(
    "!unsafe", lambda loader, node: Tagged(loader.construct_scalar(node))  # type: ignore[arg-type]
)


def read(text: str) -> Any:
    return yaml.load(text, Loader=InventoryLoader)


def cluster_of(example: str) -> Cluster:
    """The example's cluster, from the models only (the hostile one fails the rules).

    The models refuse the hostile dnsDomain and SSH users themselves: they are set after
    validation, so the renderer's own defence (``!unsafe`` on every user string) is still
    tested on them."""
    data = yaml.safe_load((GOLDEN / example / "spec.yaml").read_text(encoding="utf-8"))
    if example != "hostile":
        return Cluster.model_validate(data)
    spec = data["spec"]
    refused = (spec["kubernetes"].pop("dnsDomain"), spec["ssh"].pop("user"),
               spec["ssh"]["bastion"].pop("user"), spec["hosts"][0]["ssh"].pop("user"))
    cluster = Cluster.model_validate(data)
    bastion = cluster.spec.ssh.bastion
    assert bastion is not None
    (cluster.spec.kubernetes.dns_domain, cluster.spec.ssh.user, bastion.user,
     cluster.spec.hosts[0].ssh.user) = refused
    return cluster


def golden_files(example: str) -> dict[str, bytes]:
    root = GOLDEN / example / "inventory"
    return {
        p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("example", EXAMPLES)
def test_rendered_inventory_matches_golden_files(example: str, tmp_path: Path) -> None:
    files = render_inventory(cluster_of(example), "spec.yaml")
    if UPDATE:
        write_inventory(GOLDEN / example / "inventory", files)
    expected = golden_files(example)
    assert sorted(files) == sorted(expected)
    for name, text in files.items():
        assert text.encode("utf-8") == expected[name], f"{example}/{name} differs"
    # Written to disk, the bytes are the same too.
    written = write_inventory(tmp_path / "inventory", files)
    assert {p.relative_to(tmp_path / "inventory").as_posix(): p.read_bytes() for p in written} == (
        expected
    )


@pytest.mark.parametrize("example", [e for e in EXAMPLES if e != "hostile"])
def test_golden_specs_pass_validation(example: str) -> None:
    loaded = load_spec(GOLDEN / example / "spec.yaml", strict=True)
    assert loaded.cluster == cluster_of(example)


def test_rendering_is_deterministic() -> None:
    for example in EXAMPLES:
        cluster = cluster_of(example)
        assert render_inventory(cluster, "a.yaml") == render_inventory(
            cluster_of(example), "a.yaml"
        )


def test_write_inventory_is_private_and_drops_a_stale_user_vars_file(tmp_path: Path) -> None:
    inventory = tmp_path / "inventory"
    with_vars = render_inventory(cluster_of("gpu-cluster"), "spec.yaml")
    assert USER_VARS_FILE in with_vars
    write_inventory(inventory, with_vars)
    for path in [inventory, *inventory.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), path
    without = dict(with_vars)
    del without[USER_VARS_FILE]
    write_inventory(inventory, without)
    assert not (inventory / USER_VARS_FILE).exists()
    assert not list(inventory.rglob("*.tmp*"))


def test_groups_are_declared_statically() -> None:
    hosts = read(render_inventory(cluster_of("ha"), "s")[HOSTS_FILE])["all"]
    children = hosts["children"]
    assert list(children["kube_control_plane"]["hosts"]) == ["cp1", "cp2", "cp3"]
    assert list(children["etcd"]["hosts"]) == ["cp1", "cp2", "cp3"]
    assert list(children["kube_node"]["hosts"]) == ["wk1", "wk2", "wk3"]
    assert children["k8s_cluster"] == {"children": {"kube_control_plane": None, "kube_node": None}}
    assert "bastion" not in children
    cp1 = hosts["hosts"]["cp1"]
    assert (cp1["ansible_host"], cp1["ip"], cp1["access_ip"]) == (
        "192.0.2.11", "10.0.0.11", "10.0.0.11"
    )
    assert hosts["vars"] == {
        "ansible_user": "admin", "ansible_port": 2222,
        "ansible_ssh_private_key_file": "/keys/ha_ed25519", "ansible_become": True,
    }


def test_gpu_nodes_are_labelled_for_the_gpu_operator_and_per_host_ssh() -> None:
    data = render_hosts(cluster_of("gpu-cluster"))["all"]
    hosts = data["hosts"]
    assert hosts["gpu1"]["node_labels"] == {
        "nvidia.com/gpu.present": "true", "team": "vision", "example.com/rack": "r12"
    }
    assert hosts["cp1"]["node_labels"] == {"nvidia.com/gpu.deploy.operands": "false"}
    assert hosts["gpu1"]["node_taints"] == ["nvidia.com/gpu=present:NoSchedule"]
    assert (hosts["gpu2"]["ansible_user"], hosts["gpu2"]["ansible_port"],
            hosts["gpu2"]["ansible_ssh_private_key_file"]) == ("dgx", 2022, "/keys/dgx")
    assert "ansible_user" not in hosts["gpu1"]
    assert "bastion" not in data["children"]  # deepctl's ProxyCommand, not Kubespray's group
    assert "bastion" not in data["hosts"]
    assert data["vars"]["ansible_become"] is False


def test_without_the_gpu_addon_no_gpu_labels() -> None:
    data = render_hosts(cluster_of("single-node"))["all"]
    assert "node_labels" not in data["hosts"]["node1"]


def test_group_vars_booleans_and_helm() -> None:
    single = cluster_of("single-node")
    assert render_all_vars(single) == {
        "kube_version": "1.35.4", "kube_network_plugin": "calico",
        "kube_pods_subnet": "10.233.64.0/18", "kube_service_addresses": "10.233.0.0/18",
        "kube_network_node_prefix": 24, "kube_proxy_mode": "ipvs",
        "container_manager": "containerd", "dns_domain": "cluster.local",
        "kubeconfig_localhost": True,
    }  # no helm_enabled: Kubespray's default (false) applies
    assert not needs_helm(single)
    assert needs_helm(cluster_of("gpu-cluster"))
    text = render_inventory(cluster_of("gpu-cluster"), "s")[ALL_VARS_FILE]
    assert "kubeconfig_localhost: true\n" in text and "helm_enabled: true\n" in text
    assert read(text)["helm_enabled"] is True


def test_cluster_values_go_to_group_vars_all_so_etcd_only_hosts_see_them() -> None:
    files = render_inventory(cluster_of("gpu-cluster"), "s")
    assert sorted(files) == [ALL_VARS_FILE, USER_VARS_FILE, HOSTS_FILE]
    assert read(files[ALL_VARS_FILE])["kube_network_plugin"] == "calico"


def test_stale_k8s_cluster_file_of_older_deepctl_is_removed(tmp_path: Path) -> None:
    stale = tmp_path / "group_vars" / "k8s_cluster" / "deepctl.yml"
    stale.parent.mkdir(parents=True)
    stale.write_text("kube_version: 1.0.0\n")
    write_inventory(tmp_path, render_inventory(cluster_of("single-node"), "s"))
    assert not stale.exists()


def test_api_load_balancer_external_or_kubespray_default() -> None:
    """deepctl never writes loadbalancer_apiserver_localhost on its own: Kubespray's default
    (on without an external load balancer) applies unless the spec says otherwise."""
    ha = render_all_vars(cluster_of("ha"))
    assert ha["loadbalancer_apiserver"] == {"address": "192.0.2.5", "port": 8443}
    assert "loadbalancer_apiserver_localhost" not in ha
    assert "loadbalancer_apiserver_localhost" not in render_all_vars(cluster_of("single-node"))
    data = yaml.safe_load((GOLDEN / "ha" / "spec.yaml").read_text())
    del data["spec"]["kubernetes"]["apiServerLoadBalancer"]
    data["spec"]["kubernetes"]["localApiServerLoadBalancer"] = {"enabled": False,
                                                                "type": "haproxy"}
    written = render_all_vars(Cluster.model_validate(data))
    assert written["loadbalancer_apiserver_localhost"] is False
    assert written["loadbalancer_apiserver_type"] == "haproxy"


def test_kubespray_vars_are_written_last_as_given() -> None:
    files = render_inventory(cluster_of("gpu-cluster"), "s")
    assert USER_VARS_FILE > ALL_VARS_FILE  # loaded after deepctl's own group_vars/all file
    assert read(files[USER_VARS_FILE]) == {
        "kubelet_max_pods": 110,
    }


def test_every_user_string_in_hosts_yaml_is_tagged_unsafe() -> None:
    files = render_inventory(cluster_of("hostile"), "spec.yaml")
    data = read(files[HOSTS_FILE])["all"]
    cp1 = data["hosts"]["cp1"]
    hostile_values = [
        cp1["node_labels"]["team"], cp1["ansible_user"], cp1["ansible_ssh_private_key_file"],
        data["vars"]["ansible_user"], data["vars"]["ansible_ssh_private_key_file"],
        *cp1["node_labels"].keys(),
    ]
    assert HOSTILE in hostile_values
    for value in hostile_values:
        assert isinstance(value, Tagged), value
    assert isinstance(read(files[ALL_VARS_FILE])["dns_domain"], Tagged)
    assert "!unsafe '{{ lookup(''pipe'',''id'') }}'" in files[HOSTS_FILE]


def test_dump_yaml_tags_unsafe_strings() -> None:
    assert dump_yaml({"a": Unsafe("{{ x }}"), "b": None, "c": True}) == (
        "a: !unsafe '{{ x }}'\nb:\nc: true\n"
    )


def test_ansible_reads_hostile_strings_literally(tmp_path: Path) -> None:
    """Real Ansible: ansible-inventory sees the values as unsafe, and templating them (an
    ad-hoc debug task on a local connection) yields the literal text; the same label without
    ``!unsafe`` on a control host is executed, which proves the check can fail."""
    inventory = tmp_path / "inventory"
    write_inventory(inventory, render_inventory(cluster_of("hostile"), "spec.yaml"))
    control = inventory / "control.yaml"
    control.write_text(
        "all:\n  hosts:\n    control:\n      node_labels:\n"
        "        team: \"{{ lookup('pipe','id') }}\"\n"
    )
    env = {
        **os.environ, "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"), "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false", "ANSIBLE_PYTHON_INTERPRETER":
        sys.executable, "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '')}",
    }
    listed = subprocess.run(
        [str(VENV_BIN / "ansible-inventory"), "-i", str(inventory / HOSTS_FILE), "--list"],
        capture_output=True, text=True, env=env, cwd=tmp_path, check=True, timeout=60,
    )
    hostvars = json.loads(listed.stdout)["_meta"]["hostvars"]["cp1"]
    assert hostvars["node_labels"]["team"] == {"__ansible_unsafe": HOSTILE}
    assert hostvars["ansible_user"] == {"__ansible_unsafe": "{{ 7 * 7 }}"}
    assert hostvars["dns_domain"] == {"__ansible_unsafe": HOSTILE}  # from group_vars

    message = "{{ [node_labels.team | default(''), ansible_user | default(''), dns_domain | default('')] }}"
    templated = subprocess.run(
        [str(VENV_BIN / "ansible"), "all", "-i", str(inventory / HOSTS_FILE), "-i", str(control),
         "-c", "local", "-m", "debug", "-a", f"msg={message}"],
        capture_output=True, text=True, env=env, cwd=tmp_path, check=True, timeout=60,
    )
    out = templated.stdout
    cp1 = json.loads(out[out.index("cp1 | SUCCESS => ") + 17:].split("\n}\n")[0] + "\n}")
    assert cp1["msg"] == [HOSTILE, "{{ 7 * 7 }}", HOSTILE]
    ctl = json.loads(out[out.index("control | SUCCESS => ") + 21:].split("\n}\n")[0] + "\n}")
    assert ctl["msg"][0].startswith("uid=")  # without !unsafe Ansible runs the lookup
