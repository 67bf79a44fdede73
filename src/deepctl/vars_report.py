"""``deepctl vars``, the computation: every Kubespray variable deepctl sets for a spec, where
the value comes from, Kubespray's own default and whether the two differ (pure functions)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import yaml

from deepctl.inventory import deepctl_settings, host_vars, render_hosts
from deepctl.kubespray_offline import render_offline_vars
from deepctl.kubespray_release import SIMPLE_REFERENCE, load_release, resolved_default, same_value
from deepctl.spec.kubespray_map import is_template
from deepctl.spec.models import Cluster

Differs = Literal["yes", "no", "computed", "no default"]


@dataclass(frozen=True)
class VarRow:
    """One variable deepctl writes, beside Kubespray's default."""

    name: str
    value: Any
    kind: str  # field, derived, kubesprayVars, host
    source: str
    default: str | None  # Kubespray's default as its source text; None: it has none
    differs: Differs
    default_value: Any = None  # the default once resolved (when differs is yes or no)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "kind": self.kind,
                "source": self.source, "kubesprayDefault": self.default,
                "kubesprayDefaultValue": self.default_value, "differs": self.differs}


def kubespray_default(name: str, defaults: dict[str, str]) -> tuple[str | None, Any, bool]:
    """(source text, value, known): the default, following ``"{{ other }}"`` references."""
    text = defaults.get(name)
    if text is None:
        return None, None, False
    value: Any = yaml.safe_load(text)
    for _ in range(3):
        match = SIMPLE_REFERENCE.match(value) if isinstance(value, str) else None
        if match is None or match.group(1) not in defaults:
            break
        value = yaml.safe_load(defaults[match.group(1)])
    return text, value, not is_template(value)


def compare(value: Any, default: Any, known: bool, has_default: bool) -> Differs:
    if not has_default:
        return "no default"
    if not known:
        return "computed"
    return "no" if same_value(value, default) else "yes"


def cluster_rows(cluster: Cluster) -> list[VarRow]:
    """Every cluster-wide variable (group_vars/all), in the order it is written."""
    rows = []
    for setting in deepctl_settings(cluster):
        text, default, known = resolved_default(setting.name)
        if is_template(setting.value):  # the user's own template: equal only as the same text
            same = text is not None and yaml.safe_load(text) == setting.value
            differs: Differs = "no" if same else "computed"
        else:
            differs = compare(setting.value, default, known, text is not None)
        rows.append(VarRow(setting.name, setting.value, setting.kind, setting.source, text,
                           differs, default if differs in ("yes", "no") else None))
    for name, value in render_offline_vars(cluster).items():  # group_vars/all/deepctl-offline.yml
        text, default, known = resolved_default(name)
        differs = compare(value, default, known, text is not None)
        rows.append(VarRow(name, value, "field", "spec.offline", text, differs,
                           default if differs in ("yes", "no") else None))
    return rows


def host_rows(cluster: Cluster) -> dict[str, list[VarRow]]:
    """Per host, the variables hosts.yaml gives it (connection settings included)."""
    shared = render_hosts(cluster)["all"]["vars"]
    out: dict[str, list[VarRow]] = {}
    for index, host in enumerate(cluster.spec.hosts):
        values = {**shared, **host_vars(cluster, host)}
        source = f"spec.hosts[{index}] ({host.name}) and spec.ssh"
        out[host.name] = [VarRow(name, _plain(value), "host", source, None, "no default")
                          for name, value in values.items()]
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, str):
        return str(value)  # Unsafe -> str
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def report(cluster: Cluster) -> dict[str, Any]:
    """The whole report as JSON-ready data."""
    return {
        "cluster": cluster.name,
        "kubespray": load_release().tag,
        "variables": [row.to_json() for row in cluster_rows(cluster)],
        "hosts": {name: {row.name: row.value for row in rows}
                  for name, rows in host_rows(cluster).items()},
    }


@dataclass(frozen=True)
class HostValue:
    """One value of a per-host variable and the hosts that have it (inventory order)."""

    name: str
    value: Any
    hosts: tuple[str, ...]


@dataclass(frozen=True)
class HostVariable:
    """A per-host variable: its values (at most ``shown`` of them), and how many values and
    hosts were left out (``deepctl vars --json`` has every host's)."""

    name: str
    values: tuple[HostValue, ...]
    more_values: int
    more_hosts: int
    hosts: int  # hosts that have the variable


def by_value(rows: dict[str, list[VarRow]], shown: int = 8) -> list[HostVariable]:
    """Pure: the per-host variables grouped by identical value, in the order they are first
    met; for each, the ``shown`` values held by most hosts (ties: first met first)."""
    import json

    values: dict[str, dict[str, tuple[Any, list[str]]]] = {}
    for host, host_rows_ in rows.items():
        for row in host_rows_:
            key = json.dumps(row.value, sort_keys=True, default=str)
            values.setdefault(row.name, {}).setdefault(key, (row.value, []))[1].append(host)
    out = []
    for name, groups in values.items():
        ranked = sorted(groups.values(), key=lambda g: -len(g[1]))  # stable: first met first
        kept = ranked[:shown]
        out.append(HostVariable(
            name, tuple(HostValue(name, value, tuple(hosts)) for value, hosts in kept),
            len(ranked) - len(kept), sum(len(h) for _, h in ranked[shown:]),
            sum(len(h) for _, h in ranked)))
    return out
