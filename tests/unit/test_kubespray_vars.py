"""Every variable deepctl writes for Kubespray is one Kubespray v2.31.0 defines, booleans are
booleans, and the package data (src/deepctl/data/kubespray-v2.31.0.yml) matches the upstream
reference extract in ../shared/reference/kubespray-v2.31.0/."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from deepctl.clusterspec.kubespray_rules import CONNECTION_VARIABLES
from deepctl.clusterspec.loader import load_spec, load_spec_text
from deepctl.clusterspec.models import Cluster
from deepctl.clusterspec.rules import INVENTORY_ONLY_VARS, OWNED_KUBESPRAY_VARS
from deepctl.init_spec import EXAMPLES as INIT_EXAMPLES
from deepctl.init_spec import example_options, render_spec
from deepctl.kubespray.release import load_release
from deepctl.kubevars.render import HOSTS_FILE, USER_VARS_FILE, render_inventory
from tests.unit.test_inventory import cluster_of

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT.parent / "shared" / "reference" / "kubespray-v2.31.0"
GOLDEN = ROOT / "tests" / "golden"

pytestmark = pytest.mark.skipif(
    not (REFERENCE / "variables.yml").is_file(),
    reason=f"the Kubespray reference extract is not at {REFERENCE} (it is present in CI)",
)

# Connection variables of Ansible itself, and host variables Kubespray reads without defining a
# default (docs/ansible/vars.md: `ip`, `node_labels`).
ANSIBLE_CONNECTION_VARS = frozenset(
    {"ansible_host", "ansible_user", "ansible_port", "ansible_ssh_private_key_file",
     "ansible_become"}
)
KUBESPRAY_HOST_VARS = frozenset({"ip", "node_labels"})

EVERYTHING_ON = """\
apiVersion: deepctl/v1alpha1
kind: Cluster
metadata: {name: everything}
spec:
  kubernetes:
    version: "1.33.0"
    networkPlugin: kube-ovn
    podSubnet: 10.240.0.0/16
    serviceSubnet: 10.96.0.0/16
    nodePrefix: 24
    proxyMode: nftables
    containerRuntime: crio
    dnsDomain: corp.local
    strictArp: true
    apiServerLoadBalancer: {address: lb.corp.example, port: 6443}
  ssh:
    user: ops
    port: 2222
    identityFile: /keys/ops
    become: true
    bastion: {address: 198.51.100.1, user: jump, port: 22, identityFile: /keys/jump}
  hosts:
    - {name: cp1, address: 192.0.2.11, internalAddress: 10.0.0.11, roles: [control-plane, etcd],
       taints: ["node-role.kubernetes.io/control-plane=:NoSchedule"]}
    - {name: cp2, address: 192.0.2.12, internalAddress: 10.0.0.12, roles: [control-plane, etcd],
       cephDevices: [/dev/nvme1n1]}
    - {name: cp3, address: 192.0.2.13, internalAddress: 10.0.0.13, roles: [control-plane, etcd],
       cephDevices: [/dev/nvme1n1]}
    - {name: gpu1, address: 192.0.2.31, internalAddress: 10.0.0.31, roles: [worker], gpu: true,
       labels: {team: ml}, taints: ["nvidia.com/gpu=present:NoSchedule"],
       ssh: {user: dgx, port: 22, identityFile: /keys/dgx}}
    - {name: st1, address: 192.0.2.41, internalAddress: 10.0.0.41, roles: [worker],
       cephDevices: [/dev/nvme1n1]}  # Ceph needs devices on 3 hosts (spec rule)
  addons:
    gpu: {enabled: true, driver: {install: true, version: "580.95.05"}}  # no MIG: Slurm is on
    monitoring: {enabled: true, retention: 30d, storageSize: 100Gi}
    logging: {enabled: true}
    storage: {nfs: {enabled: true, server: st1, path: /srv/nfs}, ceph: {enabled: true}}
    slurm: {enabled: true}
    jupyterhub: {enabled: true}
  ansible: {strategy: free, forks: 20}
  kubesprayVars:
    calico_mtu: 1400
    download_run_once: true
"""


def load_reference(name: str) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data: dict[str, Any] = yaml.load((REFERENCE / name).read_text(), Loader=loader)
    return data


@cache
def reference_types() -> dict[str, set[str]]:
    """Every variable name Kubespray defines or documents -> the types of its defaults."""
    core = load_reference("variables.yml")
    other = load_reference("other_role_defaults.yml")
    types: dict[str, set[str]] = {}
    for section in (core["variables"], core["commented_in_sample"], other["variables"]):
        for name, definitions in section.items():
            types.setdefault(name, set()).update(d.get("type", "?") for d in definitions)
    return types


def clusters() -> dict[str, Cluster]:
    found: dict[str, Cluster] = {}
    for spec in sorted((ROOT / "examples").glob("*.yaml")):
        found[f"examples/{spec.name}"] = load_spec(spec).cluster
    for example in INIT_EXAMPLES:
        opts, hosts = example_options(example)
        text = render_spec(opts, hosts, "cluster.yaml")
        found[f"init --example {example}"] = load_spec_text(text, Path("cluster.yaml")).cluster
    for spec in sorted(GOLDEN.glob("*/spec.yaml")):
        # the hostile one's values the models now refuse are set after validation
        found[f"golden/{spec.parent.name}"] = cluster_of(spec.parent.name)
    found["everything-on"] = load_spec_text(EVERYTHING_ON, Path("everything.yaml"),
                                            strict=True).cluster
    return found


CLUSTERS = clusters()


def written_group_vars(cluster: Cluster) -> dict[str, Any]:
    """Variables deepctl itself writes into group_vars (not the user's kubesprayVars file)."""
    out: dict[str, Any] = {}
    for name, text in render_inventory(cluster, "spec.yaml").items():
        if name.startswith("group_vars/") and name != USER_VARS_FILE:
            out.update(yaml.safe_load(text.replace("!unsafe ", "")) or {})
    return out


def written_host_vars(cluster: Cluster) -> set[str]:
    text = render_inventory(cluster, "spec.yaml")[HOSTS_FILE].replace("!unsafe ", "")
    data = yaml.safe_load(text)["all"]
    names = set(data["vars"])
    for host_vars in data["hosts"].values():
        names |= set(host_vars or {})
    return names


@pytest.mark.parametrize("name", sorted(CLUSTERS))
def test_group_vars_names_are_kubespray_variables(name: str) -> None:
    written = written_group_vars(CLUSTERS[name])
    assert written, "nothing written"
    unknown = sorted(set(written) - set(reference_types()))
    assert unknown == [], f"{name}: deepctl writes variables Kubespray does not define: {unknown}"


@pytest.mark.parametrize("name", sorted(CLUSTERS))
def test_group_vars_booleans_are_real_booleans(name: str) -> None:
    for var, value in written_group_vars(CLUSTERS[name]).items():
        if reference_types().get(var) == {"bool"}:
            assert isinstance(value, bool), f"{var}: {value!r} is not a boolean"


@pytest.mark.parametrize("name", sorted(CLUSTERS))
def test_host_vars_are_connection_or_kubespray_variables(name: str) -> None:
    # Host variables Kubespray only reads (ip6, access_ip6) are in the generated name list.
    allowed = (set(reference_types()) | ANSIBLE_CONNECTION_VARS | KUBESPRAY_HOST_VARS
               | load_release().variables)
    assert sorted(written_host_vars(CLUSTERS[name]) - allowed) == []


def test_core_group_vars_are_owned_so_kubespray_vars_cannot_override_them() -> None:
    """What deepctl writes from the spec itself (addons aside) is refused in kubesprayVars."""
    core = [c for c in CLUSTERS.values() if not c.spec.addons.gpu.enabled]
    assert core
    for cluster in core:
        assert set(written_group_vars(cluster)) <= OWNED_KUBESPRAY_VARS


def test_owned_and_inventory_only_names_are_real() -> None:
    allowed = set(reference_types()) | ANSIBLE_CONNECTION_VARS | KUBESPRAY_HOST_VARS
    assert sorted(OWNED_KUBESPRAY_VARS - allowed - CONNECTION_VARIABLES.keys()
                  - load_release().variables) == []
    # Names an inventory may set that Kubespray reads but does not default.
    assert INVENTORY_ONLY_VARS.isdisjoint(OWNED_KUBESPRAY_VARS)


def test_everything_on_writes_every_kind_of_variable() -> None:
    written = written_group_vars(CLUSTERS["everything-on"])
    assert written["loadbalancer_apiserver"] == {"address": "lb.corp.example", "port": 6443}
    assert written["helm_enabled"] is True and written["kubeconfig_localhost"] is True
    assert written["kube_network_plugin"] == "kube-ovn"
    assert written["container_manager"] == "crio"
    hosts = written_host_vars(CLUSTERS["everything-on"])
    assert {"ip", "access_ip", "node_labels", "node_taints", "ansible_user"} <= hosts


def test_package_data_matches_the_reference() -> None:
    versions = load_reference("kube_versions.yml")
    core = load_reference("variables.yml")
    release = load_release("v2.31.0")
    assert (release.tag, release.commit) == (versions["kubespray_tag"], versions["kubespray_commit"])
    assert release.commit == core["kubespray_commit"]
    assert release.default_kube_version == versions["default_kube_version"]
    assert release.min_kube_version == versions["kube_version_min_required"]
    assert {arch: list(v) for arch, v in release.supported_versions.items()} == (
        versions["supported_versions"]
    )
    assert release.minors() == versions["supported_minors"]
    # Every name the extract holds, and more: the names Kubespray only reads (templates,
    # `is defined`, `default()`), found by scripts/kubespray_refs.py in the real tree.
    assert release.variables > frozenset(reference_types())
    read_only = {"kubelet_seccomp_default", "kubelet_streaming_connection_idle_timeout",
                 "kubelet_make_iptables_util_chains", "docker_repo_key_keyring", "ip",
                 "access_ip", "ip6", "etcd_member_name", "node_labels"}
    assert read_only <= release.variables
