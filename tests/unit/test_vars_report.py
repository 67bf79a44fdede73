"""deepctl vars, the pure part: every variable deepctl writes, its source, Kubespray's default
and whether they differ; the report and group_vars/all agree variable for variable."""

from __future__ import annotations

from pathlib import Path

import yaml

from deepctl.clusterspec.loader import load_spec, load_spec_text
from deepctl.kubespray.release import resolved_default
from deepctl.kubevars.render import ALL_VARS_FILE, USER_VARS_FILE, render_inventory
from deepctl.kubevars.report import VarRow, cluster_rows, host_rows, report
from tests.specs import MINIMAL_SPEC

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def rows_by_name(text: str) -> dict[str, object]:
    cluster = load_spec_text(text, Path("c.yaml")).cluster
    return {row.name: row for row in cluster_rows(cluster)}


def test_minimal_spec_sets_kubesprays_defaults_and_says_so() -> None:
    rows = rows_by_name(MINIMAL_SPEC)
    same = {name for name, row in rows.items() if row.differs == "no"}  # type: ignore[attr-defined]
    assert {"kube_version", "kube_network_plugin", "kube_pods_subnet", "kube_service_addresses",
            "kube_network_node_prefix", "kube_proxy_mode", "container_manager",
            "dns_domain"} == same
    localhost = rows["kubeconfig_localhost"]
    assert (localhost.kind, localhost.differs, localhost.default_value) == (  # type: ignore[attr-defined]
        "derived", "yes", False)
    assert "admin kubeconfig" in localhost.source  # type: ignore[attr-defined]
    assert rows["helm_enabled"].kind == "derived"  # type: ignore[attr-defined]  # monitoring
    # Nothing else: Kubespray's own defaults apply (no silent loadbalancer_apiserver_localhost).
    assert set(rows) == same | {"kubeconfig_localhost", "helm_enabled"}


def test_typed_fields_name_their_path_and_differ_from_defaults() -> None:
    cluster = load_spec(GOLDEN / "kubespray-fields" / "spec.yaml").cluster
    rows = {row.name: row for row in cluster_rows(cluster)}
    dns = rows["enable_nodelocaldns"]
    assert (dns.source, dns.differs) == ("spec.kubernetes.nodeLocalDns.enabled", "no")
    assert rows["etcd_deployment_type"].differs == "yes"
    assert rows["etcd_deployment_type"].default_value == "host"
    assert rows["calico_ipip_mode"].source == "spec.kubernetes.calico.encapsulation"
    assert rows["container_manager"].value == "docker"


def test_dns_domain_default_follows_kubesprays_reference_to_cluster_name() -> None:
    text, value, known = resolved_default("dns_domain")
    assert (text, value, known) == ('"{{ cluster_name }}"', "cluster.local", True)
    assert resolved_default("no_such_kubespray_variable") == (None, None, False)


def test_report_lists_exactly_what_group_vars_all_holds() -> None:
    spec = MINIMAL_SPEC + "  kubesprayVars:\n    kubelet_max_pods: 200\n"
    cluster = load_spec_text(spec, Path("c.yaml")).cluster
    files = render_inventory(cluster, "c.yaml")
    group_vars = files[ALL_VARS_FILE].replace("!unsafe ", "")
    written = {**yaml.safe_load(group_vars), **yaml.safe_load(files[USER_VARS_FILE])}
    data = report(cluster)
    assert {v["name"]: v["value"] for v in data["variables"]} == written
    raw = next(v for v in data["variables"] if v["name"] == "kubelet_max_pods")
    assert (raw["kind"], raw["source"], raw["differs"]) == (
        "kubesprayVars", "spec.kubesprayVars.kubelet_max_pods", "yes")
    assert data["hosts"]["cp1"]["ansible_host"] == "192.0.2.11"
    assert [r.name for r in host_rows(cluster)["cp1"]][:2] == ["ansible_user", "ansible_port"]


def test_a_template_in_kubespray_vars_replaces_the_unset_typed_field() -> None:
    spec = MINIMAL_SPEC + '  kubesprayVars:\n    dns_domain: "{{ cluster_name }}"\n'
    cluster = load_spec_text(spec, Path("c.yaml")).cluster
    files = render_inventory(cluster, "c.yaml")
    assert "dns_domain" not in files[ALL_VARS_FILE]  # deepctl leaves it to the template
    assert yaml.safe_load(files[USER_VARS_FILE]) == {"dns_domain": "{{ cluster_name }}"}
    row = next(r for r in cluster_rows(cluster) if r.name == "dns_domain")
    assert (row.kind, row.differs) == ("kubesprayVars", "no")  # Kubespray's own default text
    other = load_spec_text(spec.replace("cluster_name", "x"), Path("c.yaml")).cluster
    row = next(r for r in cluster_rows(other) if r.name == "dns_domain")
    assert row.differs == "computed"


def _rows(spec: str) -> dict[str, VarRow]:
    return {row.name: row for row in cluster_rows(load_spec_text(spec, Path("c.yaml")).cluster)}


def test_templates_are_evaluated_with_the_variables_in_effect() -> None:
    """Issue 22: `dns_domain: "{{ cluster_name }}"` with `cluster_name: lab.example` was "same
    as Kubespray's default cluster.local"; Ansible makes both lab.example."""
    rows = _rows(MINIMAL_SPEC + '  kubesprayVars:\n    cluster_name: lab.example\n'
                 '    dns_domain: "{{ cluster_name }}"\n'
                 '    kube_oidc_url: "https://{{ dns_domain }}:8443"\n')
    dns = rows["dns_domain"]
    assert (dns.differs, dns.evaluated, dns.default_value) == ("no", "lab.example", "lab.example")
    assert rows["kube_oidc_url"].evaluated == "https://lab.example:8443"


def test_deepctls_value_is_compared_with_the_default_as_evaluated() -> None:
    """deepctl writes dns_domain: cluster.local; Kubespray's "{{ cluster_name }}" is
    lab.example here: they differ."""
    dns = _rows(MINIMAL_SPEC + "  kubesprayVars:\n    cluster_name: lab.example\n")["dns_domain"]
    assert (dns.value, dns.differs, dns.default_value) == ("cluster.local", "yes", "lab.example")


def test_what_needs_a_host_or_a_lookup_is_computed_never_same(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    rows = _rows(MINIMAL_SPEC + "  kubesprayVars:\n"
                 '    cluster_name: "{{ ansible_default_ipv4.address }}"\n'
                 f"    kube_oidc_url: \"{{{{ lookup('pipe', 'touch {marker}') }}}}\"\n")
    assert rows["cluster_name"].differs == "computed"
    assert rows["dns_domain"].differs == "computed"  # its default follows cluster_name
    assert rows["kube_oidc_url"].evaluated is None
    assert not marker.exists()  # no lookup ran


def test_per_host_variables_grouped_by_identical_value() -> None:
    from deepctl.kubevars.report import HostValue, HostVariable, VarRow, by_value

    def row(name: str, value: object) -> VarRow:
        return VarRow(name, value, "host", "spec.hosts", None, "no default")

    rows = {f"n{i}": [row("user", "ubuntu"), row("rack", f"r{i % 3}"), row("addr", f"10.0.0.{i}")]
            for i in range(6)}
    assert by_value(rows, shown=2) == [
        HostVariable("user", (HostValue("user", "ubuntu", tuple(rows)),), 0, 0, 6),
        HostVariable("rack", (HostValue("rack", "r0", ("n0", "n3")),
                              HostValue("rack", "r1", ("n1", "n4"))), 1, 2, 6),
        HostVariable("addr", (HostValue("addr", "10.0.0.0", ("n0",)),
                              HostValue("addr", "10.0.0.1", ("n1",))), 4, 4, 6),
    ]
