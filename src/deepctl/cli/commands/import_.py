"""``deepctl import``: a Kubespray inventory -> a commented deepctl spec."""

from __future__ import annotations

import json
from pathlib import Path

from deepctl.cli.support import print_json, stdout
from deepctl.clusterspec.loader import LoadedSpec, load_spec_text
from deepctl.consoles import escape
from deepctl.errors import InventoryImportError, SpecError, UsageError
from deepctl.fsutil import atomic_write
from deepctl.importer.convert import ImportResult, convert
from deepctl.importer.listing import inventory_source, list_inventory
from deepctl.importer.writer import blame, cluster_name, spec_text, summary
from deepctl.shellwords import deepctl_command


def run(inventory: Path, output: Path, *, name: str | None, identity_file: str | None,
        user: str | None, as_json: bool) -> None:
    if output.exists():
        raise UsageError(f"{output} already exists; deepctl import never overwrites a spec",
                         hint=deepctl_command("import", inventory, "-o",
                                              f"{output.with_suffix('')}-imported.yaml"))
    source = inventory_source(inventory)
    directory = source.parent if source.is_file() else source
    result = convert(list_inventory(inventory), name=name or cluster_name(directory.name),
                     user=user, identity_file=identity_file)
    if result.problems:
        raise InventoryImportError(f"{len(result.problems)} thing(s) in {source} cannot be "
                                   "expressed in a deepctl spec", str(source), result.problems)
    text = spec_text(result, str(source))
    loaded = _validate(text, output, result, str(source))
    atomic_write(output, text, 0o600)
    report = {"spec": str(output), "inventory": str(source), **summary(result),
              "warnings": [w.to_json() for w in loaded.warnings]}
    if as_json:
        print_json(report)
    else:
        _print(output, result, loaded)


def _validate(text: str, output: Path, result: ImportResult, source: str) -> LoadedSpec:
    """The spec as deepctl will load it: every refusal named by its Kubespray variable."""
    try:
        return load_spec_text(text, output)
    except SpecError as error:
        reasons = [blame(p, result) for p in error.problems if p.severity == "error"]
        raise InventoryImportError(f"the spec imported from {source} is not valid",
                                   source, reasons) from None


def _print(output: Path, result: ImportResult, loaded: LoadedSpec) -> None:
    console = stdout()
    facts = summary(result)
    per_host = sum(len(v) for v in result.per_host.values())
    console.print(
        f"[green]✓[/] wrote {escape(str(output))}: {escape(facts['hosts'])} hosts, "
        f"{len(result.typed)} variables in typed fields, {len(result.raw) + len(result.templates)} "
        f"in kubesprayVars ({len(result.templates)} Ansible templates), {escape(per_host)} per host"
    )
    for name, theirs, ours in result.owned:
        console.print(escape(f"  deepctl sets {name}: {json.dumps(ours)} (the inventory had "
                             f"{json.dumps(theirs)})"))
    for reason in result.dropped:
        console.print(escape(f"  not imported: {reason}"))
    for default in result.defaults:
        console.print(f"[yellow]{escape(f'  {default}')}[/]")
    for warning in loaded.warnings:
        console.print(f"[yellow]{escape(warning.format())}[/]")
    console.print(f"  next: {escape(deepctl_command('validate', output))}")
