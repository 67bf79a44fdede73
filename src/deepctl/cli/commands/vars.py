"""``deepctl vars``: every Kubespray variable deepctl sets for a spec, beside Kubespray's default."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.markup import escape

from deepctl.ansible.settings import setting_choices
from deepctl.cli.support import print_json, stdout
from deepctl.cli.tables import natural_width
from deepctl.clusterspec.loader import load_spec
from deepctl.kubevars.report import HostVariable, VarRow, by_value, cluster_rows, host_rows, report
from deepctl.names import summary

MARK = {"yes": "differs from", "no": "same as", "no default": "Kubespray has no default"}


def run(spec: Path, *, as_json: bool) -> None:
    cluster = load_spec(spec).cluster
    if as_json:
        print_json({"spec": str(spec), **report(cluster)})
        return
    console = stdout()
    with natural_width(console):  # long values wrap at the terminal's width (200 off one)
        console.print(f"Kubespray variables deepctl sets for cluster {escape(cluster.name)!r} "
                      f"(group_vars/all):")
        for row in cluster_rows(cluster):
            console.print(escape(line(row)), soft_wrap=False)
        console.print("\nAnsible settings of each run (ansible.cfg, [defaults]):")
        for choice in setting_choices(cluster):
            console.print(escape(f"  {choice.name} = {choice.value}    "
                                 f"[{choice.kind}: {choice.source}]"), soft_wrap=False)
        hosts = host_rows(cluster)
        console.print(f"\nPer host (hosts.yaml), by value ({len(hosts)} hosts; "
                      "--json lists every host's):")
        for variable in by_value(hosts):
            for text in host_lines(variable, len(hosts)):
                console.print(escape(text), soft_wrap=False)


def host_lines(variable: HostVariable, total: int) -> list[str]:
    """A per-host variable: one line per value with its hosts summarised, the values held
    by the fewest hosts counted in one last line."""
    if len(variable.values) == 1 and variable.hosts == total and total > 1:
        return [f"  {variable.name} = {_text(variable.values[0].value)}    on every host"]
    out = [f"  {variable.name} = {_text(v.value)}    on {summary(list(v.hosts))}"
           for v in variable.values]
    if variable.more_values:
        out.append(f"  {variable.name}: {variable.more_values} other value"
                   f"{'s' if variable.more_values != 1 else ''} on {variable.more_hosts} "
                   f"host{'s' if variable.more_hosts != 1 else ''}")
    return out


def line(row: VarRow) -> str:
    """One variable on one line: nothing is cut, whatever the width. A template is shown with
    what Ansible makes of it (``= value``), a templated default with its template."""
    text = f"  {row.name} = {_text(row.value)}"
    if row.evaluated is not None:
        text += f" (= {_text(row.evaluated)})"
    text += f"    [{row.kind}: {row.source}]"
    source = " ".join(str(row.default).split())
    if row.differs in ("yes", "no"):
        text += f"  {MARK[row.differs]} Kubespray's default {_text(row.default_value)}"
        if "{{" in source or "{%" in source:
            text += f" ({source} here)"
    elif row.differs == "computed":
        text += f"  computed by Ansible on the hosts; Kubespray's default: {source}"
    else:
        text += f"  ({MARK[row.differs]})"
    return text


def _text(value: Any) -> str:
    """A value as JSON (a string as itself), with spaces where a long one may wrap."""
    return value if isinstance(value, str) else json.dumps(value)
