"""``deepctl deploy``."""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape
from rich.table import Table

from deepctl.cli.commands.confirm import confirm, executor_words
from deepctl.cli.support import print_json, stdout
from deepctl.cli.tables import print_table
from deepctl.engine.deploy import DeployOptions, deploy_operation
from deepctl.engine.plan import Plan, build_plan
from deepctl.executor.check import require_ready
from deepctl.executor.target import with_executor
from deepctl.kubespray import source as kubespray_source
from deepctl.names import summary
from deepctl.workspace import open_workspace


def run(spec: Path, *, dry_run: bool, state_dir: Path | None, strict: bool, as_json: bool,
        yes: bool = False, accept_new_hosts: bool = False, from_stage: str | None = None,
        only: list[str] | None = None, skip: list[str] | None = None,
        restart: bool = False, executor: str | None = None) -> None:
    ws = with_executor(open_workspace(spec, state_dir, strict=strict, create=False), executor)
    options = DeployOptions(from_stage=from_stage, only=list(only or []),
                            skip=list(skip or []), restart=restart,
                            accept_new_hosts=accept_new_hosts, strict=strict)
    op = deploy_operation(ws, options)
    # bad stage names are usage errors, with or without --dry-run, before anything is written
    op.check_selection()
    if dry_run:
        ws.state.create()
        ws.render_inventory()  # for people to read; no run reads <state>/inventory
        tree = kubespray_source.find(ws.cluster, ws.spec.directory)
        show_plan(build_plan(ws, tree, op), str(ws.state.root), as_json)
        return
    from deepctl.engine.display import make_display
    from deepctl.engine.session import run_operation

    hosts = summary([h.name for h in ws.cluster.spec.hosts])
    confirm(f"Deploy cluster {ws.cluster.name} on {hosts}?", yes, [
        "deepctl", "deploy", spec, *(["--state-dir", state_dir] if state_dir else []),
        *(["--strict"] if strict else []), *(["--accept-new-hosts"] if accept_new_hosts else []),
        *(["--from", from_stage] if from_stage else []),
        *[w for name in only or [] for w in ("--only", name)],
        *[w for name in skip or [] for w in ("--skip", name)],
        *(["--restart"] if restart else []), *executor_words(executor),
        *(["--json"] if as_json else [])])
    ws.state.create()  # after the question: declining leaves nothing behind
    require_ready(ws, spec, accept_new_hosts=accept_new_hosts)  # spec.executor, before hosts
    record = run_operation(ws, op, make_display(as_json))
    finished(record.id, record.duration_s, str(ws.state.kubeconfig), as_json)


def finished(run_id: str, duration: float | None, kubeconfig: str, as_json: bool) -> None:
    if as_json:
        print_json({"event": "run_finished", "result": "succeeded", "run": run_id,
                    "duration_s": duration, "kubeconfig": kubeconfig}, one_line=True)
        return
    stdout().print(f"[green]deploy succeeded[/] (run {escape(run_id)}, {duration} s); "
                   f"kubeconfig: {escape(kubeconfig)}")


def show_plan(plan: Plan, state_dir: str, as_json: bool) -> None:
    if as_json:
        print_json({"dryRun": True, "stateDir": state_dir, **plan.to_json()})
    else:
        print_plan(plan, state_dir)


def print_plan(plan: Plan, state_dir: str) -> None:
    console = stdout()
    what = "" if plan.command == "deploy" else f"{plan.command} on "
    console.print(f"[bold]Plan for {what}cluster {escape(plan.cluster)}[/] "
                  "(dry run: nothing is contacted)")
    console.print(f"  Kubernetes {escape(plan.kubernetes_version)} with {escape(plan.kubespray_source)}")
    console.print(f"  state directory: {escape(state_dir)}")
    roles = Table(title="Hosts per role", title_justify="left")
    roles.add_column("role")
    roles.add_column("count", justify="right")
    roles.add_column("hosts")
    for role, names in plan.roles.items():  # 2,000 names as "gpu[0001-2000]" (all in --json)
        roles.add_row(escape(role), str(len(names)), escape(summary(names)) or "-")
    print_table(console, roles)
    console.print(f"  playbooks: {escape(', '.join(plan.playbooks) or '-')}")
    stages = Table(title="Stages, in order", title_justify="left")
    stages.add_column("#", justify="right")
    stages.add_column("stage")
    stages.add_column("plan")
    stages.add_column("what it does")
    for i, stage in enumerate(plan.stages, start=1):
        what = escape(stage.description)
        if stage.runs:  # where it acts: 2,000 hosts as "gpu[0001-2000]" (all in --json)
            decision = f"runs: {escape(stage.reason)}"
            what += f" (on {escape(summary(list(stage.hosts)))})" if stage.hosts else ""
        else:
            decision = f"[dim]skipped: {escape(stage.reason)}[/]"
            what = f"[dim]{what}[/]"
        stages.add_row(str(i), escape(stage.name), decision, what)
    print_table(console, stages, keep=2)
    for note in plan.notes:
        console.print(f"  note: {escape(note)}")
