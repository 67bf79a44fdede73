"""One case per validation rule of the spec: the field path, a fragment of the message, the
severity and the reported line:column, all through :func:`load_spec_text` as a file would be.

A case's text is the spec header (5 lines: apiVersion, kind, metadata, name, spec) plus a body,
so body line N is file line N + 5.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from deepctl.clusterspec import rules
from deepctl.clusterspec.loader import LoadedSpec, load_spec_text
from deepctl.engine.plan import notes_for
from deepctl.errors import SpecError, SpecProblem

HEAD = "apiVersion: deepctl/v1alpha1\nkind: Cluster\nmetadata:\n  name: lab\nspec:\n"
ONE_HOST = """\
  hosts:
    - name: cp1
      address: 192.0.2.11
      roles: [control-plane, etcd, worker]
  addons: {gpu: {enabled: false}}
"""  # file lines 6-10
SPEC_FILE = Path("/specs/cluster.yaml")


@dataclass(frozen=True)
class Expect:
    line: int
    column: int
    path: str
    fragment: str
    severity: str = "error"


def load(body: str, *, head: str = HEAD, strict: bool = False) -> LoadedSpec:
    return load_spec_text(head + body, SPEC_FILE, strict=strict)


def problems(body: str, *, head: str = HEAD, strict: bool = False) -> list[SpecProblem]:
    """Every problem (errors and warnings) of a spec that must fail."""
    with pytest.raises(SpecError) as info:
        load(body, head=head, strict=strict)
    return info.value.problems


def assert_one(found: list[SpecProblem], expect: Expect) -> None:
    matching = [p for p in found if p.path == expect.path and expect.fragment in p.message]
    assert matching, f"no {expect} among:\n" + "\n".join(p.format() for p in found)
    problem = matching[0]
    assert (problem.line, problem.column, problem.severity) == (
        expect.line, expect.column, expect.severity
    ), problem.format()
    assert problem.file == str(SPEC_FILE)
    where = f"{SPEC_FILE}:{expect.line}:{expect.column}: "
    assert problem.format().startswith(where), problem.format()


# -- syntax, types, keys -----------------------------------------------------------------------
ERROR_CASES: dict[str, tuple[str, Expect]] = {
    "yaml-syntax": (
        ONE_HOST + "  ssh: {user: ubuntu\n  kubernetes: {}\n",
        Expect(12, 13, "", "expected ',' or '}'"),
    ),
    "wrong-type-int": (
        ONE_HOST + "  ssh:\n    port: twenty-two\n",
        Expect(12, 11, "spec.ssh.port", "valid integer"),
    ),
    "wrong-type-bool": (
        ONE_HOST.replace("      roles", "      gpu: perhaps\n      roles"),
        Expect(9, 12, "spec.hosts[0].gpu", "valid boolean"),
    ),
    "wrong-type-version-float": (
        ONE_HOST + "  kubernetes: {version: 1.35}\n",
        Expect(11, 25, "spec.kubernetes.version", "valid string (got 1.35)"),
    ),
    "wrong-type-subnet": (
        ONE_HOST + "  kubernetes: {podSubnet: 10.0.0.0/33}\n",
        Expect(11, 27, "spec.kubernetes.podSubnet", "valid IPv4 network"),
    ),
    "out-of-range-port": (
        ONE_HOST + "  ssh: {port: 70000}\n",
        Expect(11, 15, "spec.ssh.port", "less than or equal to 65535"),
    ),
    "unknown-choice": (
        ONE_HOST + "  kubernetes:\n    networkPlugin: weave\n",
        Expect(12, 20, "spec.kubernetes.networkPlugin", "'calico'"),
    ),
    "unknown-key-did-you-mean": (
        ONE_HOST + "  kubernets: {}\n",
        Expect(11, 3, "spec.kubernets", "unknown key 'kubernets'; did you mean 'kubernetes'?"),
    ),
    "unknown-key-in-host": (
        ONE_HOST.replace("      roles", "      adress: 192.0.2.12\n      roles"),
        Expect(9, 7, "spec.hosts[0].adress", "did you mean 'address'?"),
    ),
    "unknown-key-lists-allowed": (
        ONE_HOST.replace("{gpu: {enabled: false}}", "{zzz: {}}"),
        Expect(10, 12, "spec.addons.zzz", "(allowed: gpu, jupyterhub, logging, monitoring"),
    ),
    "missing-key": (
        "  hosts:\n    - name: cp1\n      roles: [control-plane, etcd, worker]\n",
        Expect(7, 7, "spec.hosts[0].address", "missing required key 'address'"),
    ),
    "no-hosts": ("  hosts: []\n", Expect(6, 10, "spec.hosts", "at least 1 item")),
    "role-unknown": (
        ONE_HOST.replace("etcd, worker]", "etcd, wrker]"),
        Expect(9, 36, "spec.hosts[0].roles[2]", "'control-plane', 'etcd' or 'worker'"),
    ),
    "role-twice": (
        ONE_HOST.replace("etcd, worker]", "etcd, worker, etcd]"),
        Expect(9, 14, "spec.hosts[0].roles", "roles are listed twice"),
    ),
    "taint-syntax": (
        ONE_HOST.replace("      roles", "      taints: [gpu=true]\n      roles"),
        Expect(9, 15, "spec.hosts[0].taints", "not of the form key=value:Effect"),
    ),
    "api-version": (
        ONE_HOST,
        Expect(1, 13, "apiVersion", "'deepctl/v1alpha1' (got 'deepctl/v2')"),
    ),
}


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_syntax_type_and_key_errors(case: str) -> None:
    body, expect = ERROR_CASES[case]
    head = HEAD.replace("v1alpha1", "v2") if case == "api-version" else HEAD
    assert_one(problems(body, head=head), expect)


# -- names and addresses -----------------------------------------------------------------------
def two_hosts(name2: str = "wk1", address2: str = "192.0.2.12", extra: str = "") -> str:
    return (
        "  hosts:\n"
        "    - name: cp1\n"
        "      address: 192.0.2.11\n"
        "      roles: [control-plane, etcd]\n"
        f"    - name: {name2}\n"  # line 10
        f"      address: {address2}\n"  # line 11
        f"      roles: [worker]{extra}\n"
        "  addons: {gpu: {enabled: false}}\n"
    )


def test_cluster_name_must_be_rfc1123() -> None:
    found = problems(ONE_HOST, head=HEAD.replace("name: lab", "name: GPU_Lab"))
    assert_one(found, Expect(4, 9, "metadata.name", "'GPU_Lab' is not a lower-case RFC 1123"))


@pytest.mark.parametrize(
    "name",
    [
        "Worker1",  # upper case
        "wk_1",  # underscore
        "-wk1",  # leading dash (quoted below)
        "wk1..lab",  # an empty label
        "wk1.lab.",  # a trailing dot (absolute DNS name)
        "wk1.Lab",  # upper case in a label
        "a" * 30 + "." + "b" * 33,  # a DNS name longer than a label value (64)
        "a" * 64,  # too long
        "'../etc'",  # path traversal
        "wk/1",  # path separator
        "'..'",
        "'wk1\\n'",  # trailing newline (double-quoted below)
        "wk\u0441",  # Cyrillic es, looks like a Latin c
        "wk\u200b1",  # zero-width space
        "\uff57k1",  # full-width w
    ],
)
def test_host_names_must_be_lowercase_rfc1123_labels(name: str) -> None:
    written = f'"{name[1:-1]}"' if name.startswith("'") else f'"{name}"'
    found = problems(two_hosts(name2=written))
    assert_one(found, Expect(10, 13, "spec.hosts[1].name", "is not a lower-case RFC 1123 label"))


@pytest.mark.parametrize("name", ["gpu01.lab", "gpu-01.rack-3.dc1.example", "a" * 63,
                                  "a" * 31 + "." + "b" * 31])
def test_dns_subdomain_host_names_are_kubernetes_node_names(name: str) -> None:
    loaded = load(two_hosts(name2=name))
    assert loaded.cluster.spec.hosts[1].name == name


def test_the_host_name_message_is_a_whole_sentence() -> None:
    found = problems(two_hosts(name2="Node_3"))
    assert found[0].message.endswith("which holds at most 63 characters"), found[0].message


def test_duplicate_host_names() -> None:
    found = problems(two_hosts(name2="cp1"))
    assert_one(found, Expect(10, 13, "spec.hosts[1].name",
                             "duplicate host name 'cp1' (also spec.hosts[0])"))


def test_duplicate_addresses() -> None:
    found = problems(two_hosts(address2="192.0.2.11"))
    assert_one(found, Expect(11, 16, "spec.hosts[1].address",
                             "address 192.0.2.11 is also used by host 'cp1' (spec.hosts[0])"))


def test_internal_address_clashing_with_another_hosts_address() -> None:
    found = problems(two_hosts(extra="\n      internalAddress: 192.0.2.11"))
    assert_one(found, Expect(13, 24, "spec.hosts[1].internalAddress",
                             "address 192.0.2.11 is also used by host 'cp1'"))


def test_address_must_be_an_ip_or_dns_name() -> None:
    found = problems(two_hosts(address2="'wk1/../x'"))
    assert_one(found, Expect(11, 16, "spec.hosts[1].address",
                             "'wk1/../x' is neither an IP address nor a DNS name"))


def test_bastion_address_must_be_an_ip_or_dns_name() -> None:
    found = problems(ONE_HOST + "  ssh:\n    bastion: {address: 'jump host'}\n")
    assert_one(found, Expect(12, 24, "spec.ssh.bastion.address", "neither an IP address"))


# -- roles -------------------------------------------------------------------------------------
def test_at_least_one_control_plane() -> None:
    found = problems(ONE_HOST.replace("[control-plane, etcd, worker]", "[etcd, worker]"))
    assert_one(found, Expect(7, 5, "spec.hosts", "no host has the role 'control-plane'"))


def test_an_odd_number_of_etcd_hosts() -> None:
    body = two_hosts().replace("roles: [worker]", "roles: [worker, etcd]")
    found = problems(body)
    assert_one(found, Expect(7, 5, "spec.hosts", "2 hosts have the role 'etcd'; etcd needs an odd"))


def test_at_least_one_etcd_host() -> None:
    found = problems(ONE_HOST.replace("[control-plane, etcd, worker]", "[control-plane, worker]"))
    assert_one(found, Expect(7, 5, "spec.hosts", "no host has the role 'etcd'; 1, 3 or 5"))


def test_at_least_one_host_runs_workloads() -> None:
    found = problems(ONE_HOST.replace("etcd, worker]", "etcd]"))
    assert_one(found, Expect(7, 5, "spec.hosts", "no host has the role 'worker'"))


def test_ha_control_plane_without_load_balancer_is_valid_and_the_plan_says_so() -> None:
    body = (
        "  hosts:\n"
        + "".join(
            f"    - {{name: cp{i}, address: 192.0.2.1{i}, roles: [control-plane, etcd]}}\n"
            for i in (1, 2, 3)
        )
        + "    - {name: wk1, address: 192.0.2.21, roles: [worker]}\n"
        + "  addons: {gpu: {enabled: false}}\n"
    )
    loaded = load(body, strict=True)
    assert loaded.warnings == []
    notes = notes_for(loaded.cluster)  # the plan's notes
    assert any("local API load balancer" in note for note in notes)


# -- versions ----------------------------------------------------------------------------------
@pytest.mark.parametrize("version", ["1.32.9", "1.36.0", "1.35.99", "v1.35.4", "latest"])
def test_kubernetes_version_must_be_supported_by_the_pinned_kubespray(version: str) -> None:
    found = problems(ONE_HOST + f"  kubernetes: {{version: '{version}'}}\n")
    assert_one(found, Expect(11, 25, "spec.kubernetes.version",
                             f"Kubernetes {version} is not supported by Kubespray v2.31.0 "
                             "(supported: 1.35.0-1.35.4, 1.34.0-1.34.7, 1.33.0-1.33.11"))


@pytest.mark.parametrize("version", ["1.33.0", "1.34.7", "1.35.4"])
def test_supported_kubernetes_versions_pass(version: str) -> None:
    loaded = load(ONE_HOST + f"  kubernetes: {{version: '{version}'}}\n")
    assert loaded.cluster.spec.kubernetes.version == version


def test_unknown_kubespray_release() -> None:
    found = problems(ONE_HOST + "  kubespray: {version: v2.30.0}\n")
    assert_one(found, Expect(11, 24, "spec.kubespray.version",
                             "deepctl does not know Kubespray 'v2.30.0'"))


# -- networks ----------------------------------------------------------------------------------
def kube(settings: str) -> str:
    return ONE_HOST + "  kubernetes:\n" + settings  # settings start on line 12


def test_pod_subnet_inside_service_subnet() -> None:
    found = problems(kube("    podSubnet: 10.96.1.0/24\n    serviceSubnet: 10.96.0.0/16\n"))
    assert_one(found, Expect(13, 20, "spec.kubernetes.serviceSubnet",
                             "(podSubnet lies inside serviceSubnet)"))


def test_service_subnet_inside_pod_subnet() -> None:
    found = problems(kube("    podSubnet: 10.96.0.0/16\n    serviceSubnet: 10.96.1.0/24\n"))
    assert_one(found, Expect(13, 20, "spec.kubernetes.serviceSubnet",
                             "(serviceSubnet lies inside podSubnet)"))


def test_equal_subnets_overlap() -> None:
    found = problems(kube("    podSubnet: 10.96.0.0/16\n    serviceSubnet: 10.96.0.0/16\n"))
    assert_one(found, Expect(13, 20, "spec.kubernetes.serviceSubnet", "overlap"))


def test_host_address_inside_the_pod_subnet() -> None:
    found = problems(ONE_HOST.replace("192.0.2.11", "10.233.64.7"))
    assert_one(found, Expect(8, 16, "spec.hosts[0].address",
                             "host address 10.233.64.7 lies inside the podSubnet 10.233.64.0/18"))


def test_internal_address_inside_the_service_subnet() -> None:
    found = problems(two_hosts(extra="\n      internalAddress: 10.233.0.20"))
    assert_one(found, Expect(13, 24, "spec.hosts[1].internalAddress",
                             "lies inside the serviceSubnet 10.233.0.0/18"))


def test_node_prefix_larger_than_the_pod_subnet() -> None:
    found = problems(kube("    nodePrefix: 16\n"))
    assert_one(found, Expect(12, 17, "spec.kubernetes.nodePrefix",
                             "nodePrefix /16 is larger than the podSubnet 10.233.64.0/18"))


def test_node_prefix_gives_too_few_blocks_for_the_hosts() -> None:
    body = two_hosts() + "  kubernetes:\n    podSubnet: 10.233.64.0/24\n    nodePrefix: 24\n"
    found = problems(body)
    assert_one(found, Expect(16, 17, "spec.kubernetes.nodePrefix",
                             "gives 1 blocks for 2 nodes"))


def test_node_prefix_too_small_for_110_pods_outside_calico() -> None:
    found = problems(kube("    networkPlugin: cilium\n    nodePrefix: 26\n"))
    assert_one(found, Expect(13, 17, "spec.kubernetes.nodePrefix",
                             "a /26 block has 62 pod addresses but kubelet allows 110 pods"))
    # Kubespray skips that check for calico, so does deepctl.
    assert load(kube("    networkPlugin: calico\n    nodePrefix: 26\n")).cluster


def test_node_prefix_check_uses_kubelet_max_pods_from_kubespray_vars() -> None:
    body = kube("    networkPlugin: flannel\n    nodePrefix: 24\n") + (
        "  kubesprayVars: {kubelet_max_pods: 300}\n"
    )
    found = problems(body)
    assert_one(found, Expect(13, 17, "spec.kubernetes.nodePrefix",
                             "kubelet allows 300 pods per node; use nodePrefix 23 or smaller"))


# -- labels ------------------------------------------------------------------------------------
def test_label_key_must_be_valid() -> None:
    found = problems(ONE_HOST.replace("      roles", "      labels: {'a b': x}\n      roles"))
    assert_one(found, Expect(9, 16, "spec.hosts[0].labels.a b", "'a b' is not a valid label key"))


def test_label_value_must_be_valid_and_templates_are_rejected() -> None:
    hostile = "{{ lookup('pipe','id') }}"
    body = ONE_HOST.replace("      roles", f'      labels: {{team: "{hostile}"}}\n      roles')
    found = problems(body)
    assert_one(found, Expect(9, 16, "spec.hosts[0].labels.team",
                             f"{hostile!r} is not a valid label value"))


# -- addons ------------------------------------------------------------------------------------
def test_gpu_addon_enabled_without_gpu_host_is_a_warning_and_strict_makes_it_an_error() -> None:
    body = ONE_HOST.replace("  addons: {gpu: {enabled: false}}\n",
                            "  addons:\n    gpu: {enabled: true}\n")
    loaded = load(body)
    (warning,) = loaded.warnings
    assert (warning.path, warning.severity, warning.line, warning.column) == (
        "spec.addons.gpu.enabled", "warning", 11, 20
    )
    assert "no host has 'gpu: true'" in warning.message
    (error,) = problems(body, strict=True)
    assert (error.severity, error.line, error.column) == ("error", 11, 20)
    assert "no host has 'gpu: true'" in error.message


@pytest.mark.parametrize("addons", ["", "  addons:\n    gpu: {}\n",
                                    "  addons:\n    gpu: {operatorVersion: v26.3.3}\n"])
def test_gpu_addon_default_follows_the_hosts(addons: str) -> None:
    """Unset, addons.gpu.enabled is on exactly when a host has GPUs: a CPU-only spec has no
    warning for it, so it passes --strict; a GPU host turns it on."""
    cpu_only = ONE_HOST.replace("  addons: {gpu: {enabled: false}}\n", addons)
    loaded = load(cpu_only, strict=True)
    assert (loaded.cluster.spec.addons.gpu.enabled, loaded.warnings) == (False, [])
    with_gpu = cpu_only.replace("      roles: [control-plane, etcd, worker]\n",
                                "      roles: [control-plane, etcd, worker]\n      gpu: true\n")
    assert load(with_gpu, strict=True).cluster.spec.addons.gpu.enabled is True


def test_mig_without_gpu_addon() -> None:
    body = ONE_HOST.replace(
        "  addons: {gpu: {enabled: false}}\n",
        "  addons:\n    gpu:\n      enabled: false\n      mig: {strategy: mixed}\n",
    )
    found = problems(body)
    assert_one(found, Expect(13, 23, "spec.addons.gpu.mig.strategy",
                             "MIG strategy 'mixed' needs the GPU addon"))


def test_driver_install_without_version_is_a_warning() -> None:
    body = ONE_HOST.replace("      roles", "      gpu: true\n      roles").replace(
        "{gpu: {enabled: false}}", "{gpu: {driver: {install: true}}}"
    )
    (warning,) = load(body).warnings
    assert (warning.path, warning.severity, warning.line) == (
        "spec.addons.gpu.driver.version", "warning", 11
    )
    assert "no driver version is given" in warning.message


def nfs(settings: str) -> str:
    return ONE_HOST.replace(
        "  addons: {gpu: {enabled: false}}\n",
        "  addons:\n    gpu: {enabled: false}\n    storage:\n      nfs:\n" + settings,
    )  # settings start on line 14


def test_nfs_server_must_be_a_host_of_the_spec() -> None:
    found = problems(nfs("        enabled: true\n        server: cp-1\n"))
    assert_one(found, Expect(15, 17, "spec.addons.storage.nfs.server",
                             "NFS server 'cp-1' is not a host of this spec; did you mean 'cp1'?"))


def test_nfs_enabled_needs_a_server() -> None:
    found = problems(nfs("        enabled: true\n"))
    assert_one(found, Expect(13, 7, "spec.addons.storage.nfs.server",
                             "NFS storage is enabled but no server host is named"))


def test_nfs_with_a_host_of_the_spec_is_valid() -> None:
    loaded = load(nfs("        enabled: true\n        server: cp1\n"), strict=True)
    assert loaded.cluster.spec.addons.storage.nfs.server == "cp1"


# -- kubesprayVars -----------------------------------------------------------------------------
def test_kubespray_vars_that_deepctl_owns_are_errors() -> None:
    body = ONE_HOST + "  kubesprayVars:\n    kube_network_plugin: cilium\n    ip: 10.0.0.1\n"
    found = problems(body)
    assert_one(found, Expect(12, 5, "spec.kubesprayVars.kube_network_plugin",
                             "'kube_network_plugin' has a typed field: set "
                             "spec.kubernetes.networkPlugin instead"))
    assert_one(found, Expect(13, 5, "spec.kubesprayVars.ip", "'ip' is set by deepctl "
                             "(set spec.hosts[].internalAddress)"))


CONNECTION = ["ansible_ssh_port", "ansible_ssh_user", "ansible_ssh_host", "ansible_connection",
              "ansible_ssh_common_args", "ansible_ssh_extra_args", "ansible_ssh_private_key_file",
              "ansible_port", "ansible_user", "ansible_host"]


@pytest.mark.parametrize("name", CONNECTION)
def test_connection_variables_in_kubespray_vars_are_refused_at_their_line(name: str) -> None:
    body = ONE_HOST + f"  kubesprayVars:\n    kubelet_max_pods: 110\n    {name}: x\n"
    found = problems(body)
    assert_one(found, Expect(13, 5, f"spec.kubesprayVars.{name}",
                             f"'{name}' is an Ansible connection variable: deepctl and Ansible "
                             "must reach the hosts the same way; "))
    assert all(p.severity == "error" for p in found)


def test_a_typed_variable_may_stay_a_template_when_its_field_is_unset() -> None:
    template = '  kubesprayVars:\n    dns_domain: "{{ cluster_name }}"\n    cluster_name: lab.local\n'
    assert load(ONE_HOST + template, strict=True).warnings == []
    found = problems(ONE_HOST + "  kubernetes: {dnsDomain: corp.local}\n" + template)
    assert_one(found, Expect(13, 5, "spec.kubesprayVars.dns_domain", "'dns_domain' is given "
                             "twice: by spec.kubernetes.dnsDomain and as a template here"))


def test_retired_variables_warn_that_they_do_nothing() -> None:
    (warning,) = load(ONE_HOST + "  kubesprayVars:\n    ingress_nginx_enabled: true\n").warnings
    assert warning.message.startswith("'ingress_nginx_enabled' has no effect in Kubespray v2.31.0")


def test_unknown_kubespray_vars_are_one_warning_listing_the_names() -> None:
    body = ONE_HOST + (
        "  kubesprayVars:\n    dowload_run_once: true\n    no_such_thing: 1\n"
        "    kubelet_seccomp_default: true\n"
    )
    (warning,) = load(body).warnings
    assert (warning.path, warning.severity, warning.line, warning.column) == (
        "spec.kubesprayVars", "warning", 12, 5
    )
    assert warning.message == (
        "Kubespray v2.31.0 defines no variable named: dowload_run_once "
        "(did you mean download_run_once?), no_such_thing"
    )
    (error,) = problems(body, strict=True)
    assert error.severity == "error" and "no_such_thing" in error.message


def test_a_flood_of_unknown_kubespray_vars_is_summarised() -> None:
    body = ONE_HOST + "  kubesprayVars:\n" + "".join(f"    zz{i}: 1\n" for i in range(500))
    (warning,) = load(body).warnings
    assert warning.message.endswith("zz19 and 480 more")


# -- the rules as pure functions ---------------------------------------------------------------
def test_rules_are_pure_functions_of_the_cluster() -> None:
    cluster = load(ONE_HOST).cluster
    assert rules.check(cluster) == []
    broken = cluster.model_copy(deep=True)
    broken.spec.hosts[0].roles = ["worker"]
    findings = rules.check(broken)
    assert {f.path for f in findings} == {("spec", "hosts")}
    assert rules.count(findings) == {"error": 2}


def test_did_you_mean() -> None:
    assert rules.did_you_mean("kubernets", {"kubernetes", "ssh"}) == "; did you mean 'kubernetes'?"
    assert rules.did_you_mean("zzz", {"kubernetes", "ssh"}) == ""
