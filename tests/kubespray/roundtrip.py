"""Round trip of an inventory through `deepctl import` and deepctl's renderer, judged by the
real ``ansible-inventory --list`` on both sides."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deepctl.clusterspec.loader import LoadedSpec, load_spec_text
from deepctl.importer.convert import ImportResult, convert
from deepctl.importer.listing import parse_listing
from deepctl.importer.writer import spec_text
from deepctl.kubevars.render import render_inventory, write_inventory
from tests.kubespray.scenarios import ansible_list, plain_hostvars


@dataclass
class RoundTrip:
    result: ImportResult
    loaded: LoadedSpec
    original: dict[str, dict[str, Any]]
    rendered: dict[str, dict[str, Any]]

    def differences(self) -> list[tuple[str, str, Any, Any]]:
        """(host, variable, original, rendered) for every variable of the original inventory
        whose effective value changed, except the ones deepctl owns (listed by the import)."""
        owned = {name for name, _, _ in self.result.owned}
        out = []
        for host, variables in self.original.items():
            for name, value in variables.items():
                got = self.rendered.get(host, {}).get(name, "<unset>")
                if name not in owned and got != value:
                    out.append((host, name, value, got))
        return out


def round_trip(hosts_file: Path, work: Path) -> RoundTrip:
    listing_data = ansible_list(hosts_file)
    result = convert(parse_listing(hosts_file, listing_data), name="ci", user="ci",
                     identity_file="/keys/ci")
    assert result.problems == [], result.problems
    spec = work / "cluster.yaml"
    spec.write_text(spec_text(result, str(hosts_file)))
    loaded = load_spec_text(spec.read_text(), spec)
    write_inventory(work / "inventory", render_inventory(loaded.cluster, spec.name))
    rendered = plain_hostvars(ansible_list(work / "inventory" / "hosts.yaml"))
    return RoundTrip(result, loaded, plain_hostvars(listing_data), rendered)
