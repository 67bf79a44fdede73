"""``deepctl vars``, the computation: every Kubespray variable deepctl sets for a spec, where
the value comes from, Kubespray's own default and whether the two differ (pure functions)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import yaml

from deepctl.inventory import deepctl_settings, host_vars, render_hosts
from deepctl.kubespray_offline import render_offline_vars
from deepctl.kubespray_release import load_release, resolved_default, same_value
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
