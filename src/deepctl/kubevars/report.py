"""``deepctl vars``, the computation: every Kubespray variable deepctl sets for a spec, where
the value comes from, Kubespray's own default and whether the two differ (pure functions).

A value or default that is an Ansible template is evaluated as Ansible would, by Ansible's
own Templar, with the variables in effect: Kubespray's defaults, deepctl's values (its
``!unsafe`` ones stay literal, as Ansible keeps them) and spec.kubesprayVars, no lookups.
What needs a host (facts, ``inventory_hostname``, ``groups``) cannot be known here: it is
reported as computed, never as "same".
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import yaml

from deepctl.ansible.settings import SettingChoice, setting_choices
from deepctl.clusterspec.kubespray_map import is_template
from deepctl.clusterspec.models import Cluster
from deepctl.kubespray.release import (
    load_defaults,
    load_release,
    same_value,
)
from deepctl.kubevars.offline import render_offline_vars
from deepctl.kubevars.render import (
    Unsafe,
    deepctl_settings,
    host_vars,
    render_all_vars,
    render_hosts,
)

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
    evaluated: Any = None  # a templated value as Ansible evaluates it (None: not a template)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "kind": self.kind,
                "source": self.source, "kubesprayDefault": self.default,
                "kubesprayDefaultValue": self.default_value, "differs": self.differs,
                "evaluatedValue": self.evaluated}


def compare(value: Any, default: Any, known: bool, has_default: bool) -> Differs:
    if not has_default:
        return "no default"
    if not known:
        return "computed"
    return "no" if same_value(value, default) else "yes"


class _VariablesInEffect(Mapping[str, Any]):
    """Kubespray's defaults under what deepctl writes; a default is parsed when it is read."""

    def __init__(self, defaults: dict[str, str], written: dict[str, Any]) -> None:
        self._defaults, self._written = defaults, written
        self._parsed: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        return self._written[name] if name in self._written else self.default(name)

    def default_text(self, name: str) -> str | None:
        return self._defaults.get(name)

    def default(self, name: str) -> Any:
        """Kubespray's default of ``name``, parsed (``KeyError`` when it has none)."""
        if name not in self._parsed:
            self._parsed[name] = yaml.load(self._defaults[name],
                                           Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        return self._parsed[name]

    def __iter__(self) -> Iterator[str]:
        return iter({**dict.fromkeys(self._defaults), **dict.fromkeys(self._written)})

    def __len__(self) -> int:
        return len(set(self._defaults) | set(self._written))


class Evaluator:
    """Ansible's Templar over the variables in effect for ``cluster`` (no lookups)."""

    def __init__(self, cluster: Cluster, defaults: dict[str, str]) -> None:
        from ansible.parsing.dataloader import DataLoader
        from ansible.template import Templar

        written = {**render_all_vars(cluster), **render_offline_vars(cluster),
                   **dict(cluster.spec.kubespray_vars)}
        self.variables = _VariablesInEffect(defaults, {k: _for_ansible(v)
                                                       for k, v in written.items()})
        self._templar = Templar(loader=DataLoader(), variables=self.variables)

    def evaluate(self, value: Any) -> tuple[Any, bool]:
        """(value as Ansible sees it, known); known is False when it needs a host."""
        from ansible.errors import AnsibleError
        from jinja2 import TemplateError

        if not is_template(value):
            return _plain(value), True
        try:
            result = self._templar.template(_for_ansible(value), fail_on_undefined=True,
                                            disable_lookups=True)
        except (AnsibleError, TemplateError, TypeError, ValueError, KeyError, RecursionError):
            return None, False
        return _plain(result), True


def _for_ansible(value: Any) -> Any:
    """deepctl's ``Unsafe`` text as Ansible's own unsafe text (never templated)."""
    from ansible.utils.unsafe_proxy import AnsibleUnsafeText

    if isinstance(value, Unsafe):
        return AnsibleUnsafeText(str(value))
    if isinstance(value, dict):
        return {k: _for_ansible(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_for_ansible(v) for v in value]
    return value


def _row(name: str, value: Any, ev: Evaluator, kind: str, source: str) -> VarRow:
    written = ev.variables[name]  # as Ansible reads it: deepctl's free text stays literal
    effective, known = ev.evaluate(written)
    evaluated = effective if known and is_template(value) and effective != value else None
    text = ev.variables.default_text(name)
    if text is None:
        return VarRow(name, value, kind, source, None, "no default", None, evaluated)
    if name == "kube_version":  # computed from its checksums: the newest supported version
        default, default_known = load_release().default_kube_version, True
    else:
        default, default_known = ev.evaluate(ev.variables.default(name))
    differs = compare(effective, default, known and default_known, True)
    return VarRow(name, value, kind, source, text, differs,
                  default if differs in ("yes", "no") else None, evaluated)


def cluster_rows(cluster: Cluster) -> list[VarRow]:
    """Every cluster-wide variable (group_vars/all), in the order it is written."""
    ev = Evaluator(cluster, load_defaults())
    rows = [_row(setting.name, setting.value, ev, setting.kind, setting.source)
            for setting in deepctl_settings(cluster)]
    for name, value in render_offline_vars(cluster).items():  # group_vars/all/deepctl-offline.yml
        rows.append(_row(name, value, ev, "field", "spec.offline"))
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
        "ansible": [ansible_json(choice) for choice in setting_choices(cluster)],
        "hosts": {name: {row.name: row.value for row in rows}
                  for name, rows in host_rows(cluster).items()},
    }


def ansible_json(choice: SettingChoice) -> dict[str, str]:
    """An Ansible setting of the run's ansible.cfg (``[defaults]``) with its reason."""
    return {"name": choice.name, "value": choice.value, "kind": choice.kind,
            "source": choice.source}


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
