"""`deepctl import` through the real CLI and the real ansible-inventory: the commented spec it
writes, what it refuses (exit 2, naming it), and Kubespray's own inventory validation of what
the imported spec renders (the real Kubespray v2.31.0 tree)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.cli.conftest import Invoke, Sandbox
from tests.kubespray.scenarios import (
    KUBESPRAY,
    SKIP_REASON,
    available,
    build_inventory,
    sample_inventory,
)

HOSTS = """\
all:
  hosts:
    node1: {ansible_host: 192.0.2.11, ip: 10.3.0.1, etcd_member_name: etcd1}
    node2: {ansible_host: 192.0.2.12, ansible_user: admin}
    node3: {ansible_host: 192.0.2.13}
  children:
    kube_control_plane: {hosts: {node1: }}
    etcd: {hosts: {node1: }}
    kube_node: {hosts: {node2: , node3: }}
"""
GROUP_VARS = """\
auto_renew_certificates: true
container_manager: docker
etcd_deployment_type: docker
cluster_name: lab.local
dns_domain: "{{ cluster_name }}"
kubeconfig_localhost: false
calico_vxlan_mode: CrossSubnet
kubelet_max_pods: 200
"""


def inventory(root: Path, hosts: str = HOSTS, group_vars: str = GROUP_VARS) -> Path:
    (root / "group_vars" / "all").mkdir(parents=True)
    (root / "hosts.yaml").write_text(hosts)
    (root / "group_vars" / "all" / "main.yml").write_text(group_vars)
    return root


def test_import_writes_a_commented_spec_that_validates(cli: Invoke, sandbox: Sandbox) -> None:
    inv = inventory(sandbox.work / "mycluster")
    result = cli("import", str(inv), "-o", "cluster.yaml", "--user", "ubuntu",
                 "--identity-file", "/keys/id")
    assert result.exit_code == 0, result.output
    assert "wrote cluster.yaml: 3 hosts, 5 variables in typed fields, 3 in kubesprayVars " \
           "(1 Ansible templates), 1 per host" in result.stdout
    assert "deepctl sets kubeconfig_localhost: true (the inventory had false)" in result.stdout
    text = (sandbox.work / "cluster.yaml").read_text()
    assert "    containerRuntime: docker  # Kubespray container_manager\n" in text
    assert "    dns_domain: '{{ cluster_name }}'  # Ansible template, kept as given\n" in text
    assert "# deepctl sets kubeconfig_localhost: true (the inventory had false).\n" in text
    data = yaml.safe_load(text)
    assert data["metadata"]["name"] == "mycluster"
    assert data["spec"]["ssh"] == {"user": "ubuntu", "identityFile": "/keys/id"}
    hosts = {h["name"]: h for h in data["spec"]["hosts"]}
    assert hosts["node2"]["ssh"] == {"user": "admin"}
    assert hosts["node1"]["kubesprayVars"] == {"etcd_member_name": "etcd1"}
    assert data["spec"]["kubernetes"]["calico"] == {"encapsulation": "vxlan", "crossSubnet": True}
    checked = cli("validate", "cluster.yaml", "--no-kubespray")
    assert checked.exit_code == 0, checked.output
    # its only warning: /keys/id is not on this machine (so --strict would refuse it)
    warnings = [line for line in checked.stdout.splitlines() if ": warning: " in line]
    assert len(warnings) == 1 and "SSH key /keys/id does not exist" in warnings[0], warnings


def test_import_json_says_where_each_variable_went(cli: Invoke, sandbox: Sandbox) -> None:
    inv = inventory(sandbox.work / "inv")
    result = cli("import", str(inv / "hosts.yaml"), "-o", "c.yaml", "--name", "lab", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["typed"]["container_manager"] == "spec.kubernetes.containerRuntime"
    assert report["templates"] == ["dns_domain"]
    assert report["owned"] == [{"name": "kubeconfig_localhost", "inventory": False,
                                "deepctl": True}]


@pytest.mark.parametrize(("hosts", "group_vars", "message"), [
    (HOSTS + "    calico_rr: {hosts: {node3: }}\n", "",
     "group 'calico_rr' (hosts node3): Calico route reflectors have no role in a deepctl spec"),
    (HOSTS, "ansible_connection: local\n",
     "ansible_connection (hosts node1, node2, node3; set in group_vars/all/main.yml:1) changes "
     "how Ansible reaches or becomes root on the hosts (play context connection)"),
    (HOSTS.replace("ansible_host: 192.0.2.13", "ansible_host: '{{ lookup(\"env\", \"X\") }}'"),
     "", "host 'node3': the address is an Ansible template"),
    (HOSTS, "dns_mode: bind\n", "dns_mode: Input should be 'coredns', 'coredns_dual', 'manual' "
     "or 'none'"),
    (HOSTS.replace("ip: 10.3.0.1,", "ip: 10.3.0.1, access_ip: 10.9.0.1,"), "",
     "host 'node1': access_ip (10.9.0.1) differs from ip (10.3.0.1)"),
])
def test_what_cannot_be_expressed_is_exit_2_naming_it(
    cli: Invoke, sandbox: Sandbox, hosts: str, group_vars: str, message: str
) -> None:
    inv = inventory(sandbox.work / "inv", hosts, group_vars)
    result = cli("import", str(inv), "-o", "c.yaml")
    assert result.exit_code == 2
    assert f"{inv / 'hosts.yaml'}: {message}" in result.stderr, result.stderr
    assert not (sandbox.work / "c.yaml").exists()


def test_ini_inventory_with_kubesprays_old_group_names(cli: Invoke, sandbox: Sandbox) -> None:
    inv = sandbox.work / "old"
    (inv / "group_vars" / "k8s_cluster").mkdir(parents=True)
    (inv / "inventory.ini").write_text(
        "[kube-master]\nnode1 ansible_host=192.0.2.11 ip=10.0.0.1\n[etcd]\nnode1\n"
        "[kube-node]\nnode2 ansible_host=192.0.2.12 ansible_port=2222\n"
    )
    (inv / "group_vars" / "k8s_cluster" / "net.yml").write_text("kube_network_plugin: cilium\n")
    result = cli("import", str(inv), "-o", "c.yaml", "--json")
    assert result.exit_code == 0, result.output
    data = yaml.safe_load((sandbox.work / "c.yaml").read_text())
    hosts = {h["name"]: h for h in data["spec"]["hosts"]}
    assert hosts["node1"]["roles"] == ["control-plane", "etcd"]
    assert hosts["node2"]["roles"] == ["worker"]
    assert hosts["node2"]["ssh"] == {"port": 2222}
    assert data["spec"]["kubernetes"]["networkPlugin"] == "cilium"  # group_vars/k8s_cluster


def test_import_never_overwrites_a_spec(cli: Invoke, sandbox: Sandbox) -> None:
    inv = inventory(sandbox.work / "inv")
    (sandbox.work / "c.yaml").write_text("mine\n")
    result = cli("import", str(inv), "-o", "c.yaml")
    assert result.exit_code == 2
    assert "c.yaml already exists" in result.stderr
    assert (sandbox.work / "c.yaml").read_text() == "mine\n"


# Kubespray's own validation takes ~10 s per inventory here: a sample covering every layout,
# runtime and network plugin family, plus the sample inventory.
VALIDATED = ["almalinux9-docker", "ubuntu24-calico-dual-stack", "ubuntu24-calico-ipv6only-stack",
             "ubuntu24-ha-separate-etcd", "debian12-cilium", "fedora39-kube-router",
             "ubuntu24-calico-ha-wireguard", "almalinux9-crio", "ubuntu24-calico-ha-recover"]


@pytest.mark.skipif(not available(), reason=SKIP_REASON)
@pytest.mark.parametrize("scenario", [*VALIDATED, "sample"])
def test_kubespray_validates_what_an_imported_inventory_renders(
    cli: Invoke, sandbox: Sandbox, scenario: str
) -> None:
    root = sandbox.work / scenario
    if scenario == "sample":
        hosts = sample_inventory(root)
    else:
        hosts = build_inventory(KUBESPRAY / "tests" / "files" / f"{scenario}.yml", root)
    assert cli("import", str(hosts), "-o", "cluster.yaml", "--user", "ci").exit_code == 0
    spec = sandbox.work / "cluster.yaml"
    data = yaml.safe_load(spec.read_text())
    data["spec"]["kubespray"] = {"path": str(KUBESPRAY)}
    spec.write_text(yaml.safe_dump(data))
    result = cli("validate", str(spec))
    assert result.exit_code == 0, result.output
    assert "Kubespray's own inventory checks passed" in result.stdout


@pytest.mark.skipif(not available(), reason=SKIP_REASON)
def test_kubespray_validates_the_typed_fields_golden_spec(cli: Invoke, sandbox: Sandbox) -> None:
    """docker with etcd in docker, dual stack, kube-vip, Calico ipip CrossSubnet, NTP...: what
    the typed fields write is what Kubespray's own validation accepts."""
    golden = Path(__file__).resolve().parents[1] / "golden" / "kubespray-fields" / "spec.yaml"
    data = yaml.safe_load(golden.read_text())
    data["spec"]["kubespray"] = {"path": str(KUBESPRAY)}
    spec = sandbox.spec(yaml.safe_dump(data))
    result = cli("validate", str(spec))
    assert result.exit_code == 0, result.output
    assert "Kubespray's own inventory checks passed" in result.stdout


def test_kube_vip_of_kubesprays_guide_becomes_spec_kube_vip(sandbox: Sandbox) -> None:
    from tests.kubespray.roundtrip import round_trip

    hosts = HOSTS.replace("kube_control_plane: {hosts: {node1: }}",
                          "kube_control_plane: {hosts: {node1: , node2: , node3: }}")
    hosts = hosts.replace("etcd: {hosts: {node1: }}", "etcd: {hosts: {node1: , node2: , node3: }}")
    inv = inventory(sandbox.work / "vip", hosts,
                    "kube_vip_enabled: true\nkube_vip_controlplane_enabled: true\n"
                    "kube_vip_address: 192.0.2.100\nkube_vip_arp_enabled: true\n"
                    "kube_vip_interface: eth0\nkube_proxy_strict_arp: true\n"
                    "loadbalancer_apiserver: {address: 192.0.2.100, port: 6443}\n")
    trip = round_trip(inv / "hosts.yaml", sandbox.work)
    assert trip.differences() == []
    vip = trip.loaded.cluster.spec.kubernetes.kube_vip
    assert vip is not None and (vip.address, vip.mode, vip.interface) == (
        "192.0.2.100", "arp", "eth0")
