"""The typed Kubespray fields: what each writes, the rules between them, and the schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from deepctl.clusterspec.loader import load_spec_text
from deepctl.clusterspec.models import Cluster
from deepctl.clusterspec.schema import spec_json_schema
from deepctl.errors import SpecError
from deepctl.kubevars.render import render_all_vars
from tests.specs import MINIMAL_SPEC


def spec_with(kubernetes: str = "", extra: str = "") -> str:
    head = MINIMAL_SPEC.replace("spec:\n", "spec:\n" + kubernetes, 1)
    return head + extra


def cluster(kubernetes: str = "", extra: str = "") -> Cluster:
    return load_spec_text(spec_with(kubernetes, extra), Path("c.yaml"), strict=True).cluster


def messages(kubernetes: str = "", extra: str = "") -> list[str]:
    with pytest.raises(SpecError) as info:
        load_spec_text(spec_with(kubernetes, extra), Path("c.yaml"), strict=True)
    return [f"{p.path}: {p.message}" for p in info.value.problems]


def written(kubernetes: str = "", extra: str = "") -> dict[str, Any]:
    return render_all_vars(cluster(kubernetes, extra))


def test_unset_fields_write_nothing() -> None:
    assert set(written()) == {
        "kube_version", "kube_network_plugin", "kube_pods_subnet", "kube_service_addresses",
        "kube_network_node_prefix", "kube_proxy_mode", "container_manager", "dns_domain",
        "kubeconfig_localhost", "helm_enabled"}


@pytest.mark.parametrize(("kubernetes", "expected"), [
    ("  kubernetes: {autoRenewCertificates: true}\n", {"auto_renew_certificates": True}),
    ("  kubernetes: {nodeLocalDns: {enabled: false}}\n", {"enable_nodelocaldns": False}),
    ("  kubernetes: {nodeLocalDns: {address: 169.254.20.10}}\n",
     {"nodelocaldns_ip": "169.254.20.10"}),
    ("  kubernetes: {etcd: {deploymentType: kubeadm}}\n", {"etcd_deployment_type": "kubeadm"}),
    ("  kubernetes: {containerRuntime: docker, etcd: {deploymentType: docker}}\n",
     {"container_manager": "docker", "etcd_deployment_type": "docker"}),
    ("  kubernetes: {containerd: {staticBinary: true}}\n", {"containerd_static_binary": True}),
    ("  kubernetes: {localApiServerLoadBalancer: {type: haproxy}}\n",
     {"loadbalancer_apiserver_type": "haproxy"}),
    ("  kubernetes: {resolvConfMode: docker_dns, dnsMode: coredns_dual}\n",
     {"resolvconf_mode": "docker_dns", "dns_mode": "coredns_dual"}),
    ("  kubernetes: {calico: {encapsulation: vxlan}}\n",
     {"calico_vxlan_mode": "Always", "calico_ipip_mode": "Never"}),
    ("  kubernetes: {calico: {encapsulation: none, bpf: true}}\n",
     {"calico_vxlan_mode": "Never", "calico_ipip_mode": "Never", "calico_bpf_enabled": True}),
    ("  kubernetes: {networkPlugin: cilium, kubeProxyReplacement: true}\n",
     {"cilium_kube_proxy_replacement": True}),
    ("  kubernetes: {networkPlugin: kube-router, kubeProxyReplacement: true}\n",
     {"kube_router_run_service_proxy": True}),
    ("  kubernetes: {featureGates: [A=true], metricsServer: true, networkPolicy: false}\n",
     {"kube_feature_gates": ["A=true"], "metrics_server_enabled": True,
      "enable_network_policy": False}),
    ("  kubernetes: {dualStack: {ipv4: false, ipv6: true}}\n",
     {"ipv4_stack": False, "ipv6_stack": True}),
    ("  kubernetes:\n    containerd:\n      registryMirrors:\n        - prefix: docker.io\n"
     "          mirrors: [{host: 'https://mirror.gcr.io'}]\n",
     {"containerd_registries_mirrors": [{"prefix": "docker.io", "mirrors": [
         {"host": "https://mirror.gcr.io", "capabilities": ["pull", "resolve"]}]}]}),
])
def test_each_field_writes_its_kubespray_variables(kubernetes: str, expected: dict[str, Any]) -> None:
    out = written(kubernetes)
    assert {k: out.get(k) for k in expected} == expected


def test_kube_vip_writes_the_vip_as_the_api_endpoint() -> None:
    out = written("  kubernetes:\n    proxyMode: iptables\n    kubeVip: {address: 192.0.2.100}\n")
    assert out["loadbalancer_apiserver"] == {"address": "192.0.2.100", "port": 6443}
    assert (out["kube_vip_enabled"], out["kube_vip_arp_enabled"], out["kube_vip_bgp_enabled"]) == (
        True, True, False)


@pytest.mark.parametrize(("kubernetes", "fragment"), [
    ("  kubernetes: {etcd: {deploymentType: docker}}\n",
     "spec.kubernetes.etcd.deploymentType: etcd deploymentType 'docker' needs containerRuntime: "
     "docker"),
    ("  kubernetes: {kubeProxyReplacement: true}\n",
     "spec.kubernetes.kubeProxyReplacement: only the cilium and kube-router network plugins"),
    ("  kubernetes: {calico: {crossSubnet: true}}\n",
     "spec.kubernetes.calico.crossSubnet: crossSubnet needs calico.encapsulation"),
    ("  kubernetes:\n    apiServerLoadBalancer: {address: 192.0.2.5}\n"
     "    kubeVip: {address: 192.0.2.6}\n    strictArp: true\n",
     "spec.kubernetes.kubeVip: kubeVip and apiServerLoadBalancer both front the API"),
    ("  kubernetes: {kubeVip: {address: 192.0.2.6}}\n",
     "spec.kubernetes.kubeVip.mode: kube-vip in arp mode with proxyMode ipvs needs strictArp"),
    ("  kubernetes: {kubeVip: {address: 192.0.2.6, mode: bgp}}\n",
     "spec.kubernetes.kubeVip.bgpPeers: kube-vip in bgp mode needs bgpPeers"),
    ("  kubernetes: {dualStack: {ipv4: false}}\n",
     "spec.kubernetes.dualStack.ipv4: with ipv4: false, set ipv6: true"),
    ("  kubernetes: {helm: false}\n",
     "spec.kubernetes.helm: helm: false, but the enabled addons monitoring are installed with helm"),
    ("  kubernetes: {networkPlugin: cilium, calico: {bpf: true}}\n",
     "spec.kubernetes.calico: calico settings do nothing with networkPlugin 'cilium'"),
    ("  kubernetes: {containerRuntime: crio, containerd: {staticBinary: true}}\n",
     "spec.kubernetes.containerd: containerd options do nothing with containerRuntime 'crio'"),
    ("  kubernetes: {etcd: {deploymentType: podman}}\n",
     "spec.kubernetes.etcd.deploymentType: Input should be 'host', 'kubeadm' or 'docker'"),
    ("  kubernetes: {calico: {blockSize: 40}}\n",
     "spec.kubernetes.calico.blockSize: Input should be less than or equal to 32"),
])
def test_contradictions_are_reported_at_their_field(kubernetes: str, fragment: str) -> None:
    found = messages(kubernetes)
    assert any(m.startswith(fragment) for m in found), found


def test_the_schema_holds_the_typed_fields() -> None:
    defs = spec_json_schema()["$defs"]
    kubernetes = defs["KubernetesConfig"]["properties"]
    for key in ("autoRenewCertificates", "nodeLocalDns", "etcd", "containerd", "calico",
                "localApiServerLoadBalancer", "dnsMode", "resolvConfMode", "kubeProxyReplacement",
                "networkPolicy", "featureGates", "metricsServer", "helm", "dualStack", "kubeVip",
                "strictArp"):
        assert key in kubernetes, key
    runtime = kubernetes["containerRuntime"]
    assert runtime.get("enum", runtime.get("anyOf")) is not None
    assert "docker" in str(runtime)
    assert "internalAddress6" in defs["Host"]["properties"]
    assert {"ntp", "selinux"} <= set(defs["OsConfig"]["properties"])


def test_crio_registries_are_written_in_kubesprays_shape() -> None:
    out = written("  kubernetes:\n    containerRuntime: crio\n    crio:\n      registries:\n"
                  "        - {location: registry-1.docker.io, prefix: docker.io,\n"
                  "           mirrors: [{location: mirror.gcr.io, insecure: false}]}\n")
    assert out["crio_registries"] == [{"prefix": "docker.io", "location": "registry-1.docker.io",
                                       "unqualified": False, "mirrors": [
                                           {"location": "mirror.gcr.io", "insecure": False}]}]


def test_host_kubespray_vars_are_checked_and_written_for_that_host_only() -> None:
    text = spec_with(extra="").replace(
        "      roles: [control-plane, etcd, worker]\n",
        "      roles: [control-plane, etcd, worker]\n"
        "      kubesprayVars: {etcd_member_name: etcd1, ansible_port: 2222}\n")
    with pytest.raises(SpecError) as info:
        load_spec_text(text, Path("c.yaml"))
    (problem,) = info.value.problems
    assert (problem.path, problem.line) == ("spec.hosts[0].kubesprayVars.ansible_port", 10)
    assert "'ansible_port' is an Ansible connection variable" in problem.message
    ok = load_spec_text(text.replace(", ansible_port: 2222", ""), Path("c.yaml")).cluster
    from deepctl.kubevars.render import render_hosts

    assert render_hosts(ok)["all"]["hosts"]["cp1"]["etcd_member_name"] == "etcd1"


THREE_CONTROL_PLANES = MINIMAL_SPEC.replace(
    "  hosts:\n    - name: cp1\n      address: 192.0.2.11\n      roles: [control-plane, etcd, worker]\n",
    "  hosts:\n" + "".join(f"    - {{name: cp{i}, address: 192.0.2.1{i}, roles: [control-plane, "
                          "etcd, worker]}\n" for i in (1, 2, 3)),
)


def test_ha_plan_names_the_local_load_balancer_kubespray_runs() -> None:
    from deepctl.engine.plan import notes_for

    text = THREE_CONTROL_PLANES.replace(
        "spec:\n", "spec:\n  kubernetes: {localApiServerLoadBalancer: {type: haproxy}}\n", 1)
    notes = notes_for(load_spec_text(text, Path("c.yaml")).cluster)  # the plan's notes
    assert any("local API load balancer (haproxy) on every node" in n for n in notes)


def test_ha_with_the_local_load_balancer_off_and_none_outside_warns() -> None:
    text = THREE_CONTROL_PLANES.replace(
        "spec:\n", "spec:\n  kubernetes: {localApiServerLoadBalancer: {enabled: false}}\n", 1)
    (warning,) = load_spec_text(text, Path("c.yaml")).warnings
    assert warning.path == "spec.kubernetes.localApiServerLoadBalancer.enabled"
    assert "through the first control plane only" in warning.message


def test_registry_passwords_stay_in_their_file() -> None:
    text = ("  kubernetes:\n    containerd:\n      registryAuth:\n"
            "        - {registry: 'reg.example:5000', username: '{{ u }}', "
            "passwordFile: /etc/deepctl/reg.pass}\n")
    out = written(text)
    (entry,) = out["containerd_registry_auth"]
    assert entry == {"registry": "reg.example:5000", "username": "{{ u }}",
                     "password": "{{ lookup('file', '/etc/deepctl/reg.pass') }}"}
    assert type(entry["username"]).__name__ == "Unsafe"  # literal text, never templated
    assert type(entry["password"]).__name__ == "str"  # Ansible reads the file
    bad = text.replace("/etc/deepctl/reg.pass", "\"/x') }}{{ lookup('pipe','id')\"")
    assert any("registryAuth[0].passwordFile" in m for m in messages(bad))


def test_ipv6_addresses_are_unique_and_need_ipv6_on() -> None:
    two = MINIMAL_SPEC.replace(
        "  hosts:\n    - name: cp1\n      address: 192.0.2.11\n      roles: [control-plane, etcd, worker]\n",
        "  hosts:\n    - {name: cp1, address: 192.0.2.11, internalAddress6: 'fd00::1', "
        "roles: [control-plane, etcd, worker]}\n    - {name: w1, address: 192.0.2.12, "
        "internalAddress6: 'fd00::1', roles: [worker]}\n")
    with pytest.raises(SpecError) as info:
        load_spec_text(two, Path("c.yaml"))
    problems = [f"{p.path}: {p.message}" for p in info.value.problems]
    assert "spec.hosts[1].internalAddress6: address fd00::1 is also used by host 'cp1' " \
           "(spec.hosts[0])" in problems
    assert any(p.startswith("spec.kubernetes.dualStack.ipv6: hosts cp1, w1 have an "
                            "internalAddress6 but IPv6 is off") for p in problems)
