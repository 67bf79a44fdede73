"""``deepctl deploy``."""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape
from rich.table import Table

from deepctl import kubespray_source
from deepctl.cli_support import print_json, stdout
from deepctl.errors import UsageError
from deepctl.plan import Plan, build_plan
from deepctl.workspace import open_workspace


def run(spec: Path, *, dry_run: bool, state_dir: Path | None, strict: bool, as_json: bool) -> None:
    ws = open_workspace(spec, state_dir, strict=strict)
    ws.render_inventory()
    tree = kubespray_source.find(ws.cluster, ws.spec.directory)
    plan = build_plan(ws.cluster, tree)
    if not dry_run:
        raise UsageError(
            "deploy without --dry-run needs the deploy engine, which this build does not have yet",
            hint=f"run `deepctl deploy {spec} --dry-run` to see the plan",
        )
    if as_json:
        print_json({"dryRun": True, "stateDir": str(ws.state.root), **plan.to_json()})
        return
    print_plan(plan, str(ws.state.root))


def print_plan(plan: Plan, state_dir: str) -> None:
    console = stdout()
    console.print(f"[bold]Plan for cluster {escape(plan.cluster)}[/] (dry run: nothing is contacted)")
    console.print(f"  Kubernetes {plan.kubernetes_version} with {escape(plan.kubespray_source)}")
    console.print(f"  state directory: {escape(state_dir)}")
    roles = Table(title="Hosts per role", title_justify="left")
    roles.add_column("role")
    roles.add_column("hosts")
    for role, names in plan.roles.items():
        roles.add_row(role, ", ".join(names) or "-")
    console.print(roles)
    console.print(f"  playbooks: {', '.join(plan.playbooks)}")
    stages = Table(title="Stages, in order", title_justify="left")
    stages.add_column("#", justify="right")
    stages.add_column("stage")
    stages.add_column("what it does")
    for i, stage in enumerate(plan.stages, start=1):
        what = stage.description if stage.enabled else "[dim]skipped: not enabled in the spec[/]"
        stages.add_row(str(i), stage.name, what if not stage.enabled else escape(what))
    console.print(stages)
    for note in plan.notes:
        console.print(f"  note: {escape(note)}")
