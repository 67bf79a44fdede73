"""``deepctl vars``: every Kubespray variable deepctl sets for a spec, beside Kubespray's default."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.markup import escape

from deepctl.cli_support import print_json, stdout
from deepctl.spec.loader import load_spec
from deepctl.vars_report import VarRow, cluster_rows, host_rows, report

MARK = {"yes": "differs from", "no": "same as", "no default": "Kubespray has no default"}


def run(spec: Path, *, as_json: bool) -> None:
    cluster = load_spec(spec).cluster
    if as_json:
        print_json({"spec": str(spec), **report(cluster)})
        return
    console = stdout()
    console.print(f"Kubespray variables deepctl sets for cluster {escape(cluster.name)!r} "
                  f"(group_vars/all):")
    for row in cluster_rows(cluster):
        console.print(escape(line(row)))
    console.print("\nPer host (hosts.yaml):")
    for host, rows in host_rows(cluster).items():
        values = ", ".join(f"{r.name}={_text(r.value)}" for r in rows)
        console.print(escape(f"  {host}: {values}"))


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
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
