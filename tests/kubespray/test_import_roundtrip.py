"""`deepctl import` judged by round trip on Kubespray's own inventories: every one of its 65 CI
scenarios (with its CI host layout) and its sample inventory. For every host, every variable
of the original inventory has the same effective value (real ``ansible-inventory --list``) in
the inventory deepctl renders from the imported spec, except those deepctl owns, which the
import lists with both values."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from deepctl.importer.convert import convert
from deepctl.importer.listing import InventoryListing
from tests.kubespray.roundtrip import round_trip
from tests.kubespray.scenarios import (
    SKIP_REASON,
    available,
    build_inventory,
    layouts,
    sample_inventory,
    scenario_files,
    scenario_variables,
)

pytestmark = pytest.mark.skipif(not available(), reason=SKIP_REASON)
SCENARIOS = {path.stem: path for path in scenario_files()}
# CI-harness groups Kubespray's deploy never reads: dropped by the import, and said so.
DROPPED = {
    "fedora40-flannel-crio-collection-scale": ["group for_scale"],
    "ubuntu24-crio-scale": ["group for_scale"],
    "ubuntu24-calico-ha-recover": ["group broken_etcd", "group broken_kube_control_plane"],
    "ubuntu24-calico-ha-recover-noquorum": ["group broken_etcd",
                                            "group broken_kube_control_plane"],
}


WARNINGS = {
    "fedora40-flannel-crio-collection-scale": ["Kubespray v2.31.0 defines no variable named: network_plugin "
                            "(did you mean kube_network_plugin?)"],
    "ubuntu24-flannel-ha": ["'skip_non_kubeadm_warning' has no effect in Kubespray v2.31.0: "
                            "Kubespray no longer reads it"],
    "ubuntu24-flannel-ha-once": ["'ingress_nginx_enabled' has no effect in Kubespray v2.31.0: "
                                 "ingress-nginx is no longer part of Kubespray; install it as an "
                                 "addon or with Helm"],
}


def test_there_are_65_scenarios() -> None:
    assert len(SCENARIOS) == 65


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_ci_scenario_round_trips(scenario: str, tmp_path: Path) -> None:
    hosts = build_inventory(SCENARIOS[scenario], tmp_path / "original")
    trip = round_trip(hosts, tmp_path)
    assert trip.differences() == []
    assert set(trip.original) == set(trip.rendered)
    assert [r.split(" (")[0] for r in trip.result.dropped] == DROPPED.get(scenario, [])
    # No false "unknown variable": only Kubespray's own CI typo, and the names its CI still
    # sets that v2.31.0 no longer reads, are warned about.
    warned = [w.message for w in trip.loaded.warnings]
    assert warned == WARNINGS.get(scenario, []), warned


def test_sample_inventory_round_trips_keeping_its_templates(tmp_path: Path) -> None:
    hosts = sample_inventory(tmp_path / "original")
    trip = round_trip(hosts, tmp_path)
    assert trip.differences() == []
    assert len(trip.rendered) == 6
    assert "dns_domain" in trip.result.templates  # "{{ cluster_name }}": the user's Ansible
    assert trip.loaded.cluster.spec.kubespray_vars["dns_domain"] == "{{ cluster_name }}"
    assert trip.result.owned == []  # its kubeconfig_localhost is commented out
    assert trip.result.per_host["node1"] == ["etcd_member_name"]
    roles = {h.name: h.roles for h in trip.loaded.cluster.spec.hosts}
    assert roles["node1"] == ["control-plane", "etcd"] and roles["node4"] == ["worker"]
    assert str(trip.loaded.cluster.host("node1").internal_address) == "10.3.0.1"  # type: ignore[union-attr]
    assert trip.loaded.warnings == []  # no false "unknown variable" on Kubespray's own sample


def test_at_least_60_percent_of_scenario_variable_uses_land_in_typed_fields() -> None:
    """The same conversion, on the listing ansible-inventory gives for a CI inventory."""
    uses = typed = 0
    for path in SCENARIOS.values():
        data = yaml.safe_load(path.read_text()) or {}
        layout = data.get("cluster_layout") or layouts()[data.get("mode", "default")]
        variables = scenario_variables(path)
        hostvars = {f"h{i}": {"ansible_host": f"192.0.2.{10 + i}", **variables}
                    for i in range(len(layout))}
        groups: dict[str, list[str]] = {"all": list(hostvars)}
        for i, entry in enumerate(layout):
            for group in entry["node_groups"]:
                groups.setdefault(group, []).append(f"h{i}")
        result = convert(InventoryListing(path, hostvars, groups), name="ci")
        uses += len(variables)
        typed += len([name for name in variables if name in result.typed])
    assert uses == 285
    assert typed / uses >= 0.60, f"{typed} of {uses} ({typed / uses:.1%})"
