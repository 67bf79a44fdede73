"""``deepctl preflight``: run the host checks and render them (table or JSON)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from deepctl.cli.commands.confirm import executor_words
from deepctl.cli.support import print_json, stdout
from deepctl.cli.tables import print_table
from deepctl.errors import ExitCode, PreflightFailed
from deepctl.executor.check import ExecutorNotReady, check_executor
from deepctl.executor.target import with_executor
from deepctl.names import hosts_label, summary
from deepctl.preflight import GROUPS, PreflightReport, run_preflight
from deepctl.preflight.summary import FindingGroup, group_notable
from deepctl.shellwords import deepctl_command
from deepctl.workspace import open_workspace

MARKS = {"ok": "[green]✓[/]", "warning": "[yellow]![/]", "error": "[red]✗[/]"}
LABELS = {"ok": "[green]ok[/]", "warning": "[yellow]warning[/]", "error": "[red]error[/]"}


def run(
    spec: Path, *, state_dir: Path | None, as_json: bool, strict: bool, accept_new_hosts: bool,
    concurrency: int, timeout: float, executor: str | None = None,
) -> None:
    # --executor: the executor checked, and the way in to the hosts (executor/way_in.py)
    ws = with_executor(open_workspace(spec, state_dir, strict=strict), executor)
    report = run_preflight(ws, accept_new_hosts=accept_new_hosts, concurrency=concurrency,
                           timeout=timeout)
    checks = check_executor(ws, accept_new_hosts=accept_new_hosts)  # spec or --executor
    code = exit_code(report, strict)
    again = executor_words(executor)  # in the commands printed to rerun
    if as_json:
        print_json({**report.to_json(), "stateDir": str(ws.state.root), "exitCode": code,
                    **({"executor": [c.to_json() for c in checks]} if checks else {})})
        if code:
            raise typer.Exit(code)
        return
    print_report(report, stdout(), str(ws.state.facts_dir))
    not_ready = [c for c in checks if c.status == "error"]
    for c in checks:
        stdout().print(f"executor: {MARKS[c.status]} {escape(c.message)}")
    if not_ready:
        raise ExecutorNotReady(
            f"the executor is not ready: {len(not_ready)} check(s) failed",
            hint="; ".join(dict.fromkeys(c.hint for c in not_ready if c.hint))
            + f"; then rerun `{deepctl_command('preflight', spec, *again)}`")
    if report.has_errors:
        bad = [h.name for h in report.hosts if h.status == "error"]
        raise PreflightFailed(
            f"preflight found errors on {len(bad)} host(s): {summary(bad, counted=False)}",
            hint="fix what is listed above (each error has a fix), then rerun "
            f"`{deepctl_command('preflight', spec, *again)}`",
        )
    if code:
        warned = [h.name for h in report.hosts if h.status == "warning"]
        raise PreflightFailed(
            f"preflight found warnings on {len(warned)} host(s): {summary(warned)}, and "
            "--strict treats warnings as errors",
            hint="fix what is listed above, then rerun "
            f"`{deepctl_command('preflight', spec, '--strict', *again)}`",
        )


def exit_code(report: PreflightReport, strict: bool) -> int:
    """--strict: warnings are errors (exit 3, as errors are), in every command."""
    if report.has_errors or (strict and report.has_warnings):
        return ExitCode.PREFLIGHT
    return ExitCode.OK


GROUP_ABOVE = 20  # more hosts than this: hosts with the same marks share one row


def summary_table(report: PreflightReport) -> Table:
    """One row per host; past :data:`GROUP_ABOVE` hosts, one row per set of hosts with the
    same marks in every group (``4990 hosts: gpu[0001-4990]``): the findings follow, once
    per set of hosts that share them, and ``--json`` has every host."""
    table = Table(title=f"Preflight of cluster {escape(report.cluster)}", title_justify="left")
    table.add_column("host")
    table.add_column("address")
    for group in GROUPS:
        table.add_column(group, justify="center")
    table.add_column("result")
    rows: dict[tuple[str, ...], list[tuple[str, str]]] = {}
    for host in report.hosts:
        cells = []
        for group in GROUPS:
            status = host.group_status(group)
            cells.append(MARKS[status] if status else "[dim]-[/]")
        key = (*cells, LABELS[host.status])
        if len(report.hosts) <= GROUP_ABOVE:
            key = (host.name, *key)
        rows.setdefault(key, []).append((host.name, host.address))
    for key, hosts in rows.items():
        marks = key[-len(GROUPS) - 1:]
        address = hosts[0][1] if len(hosts) == 1 else "-"
        table.add_row(escape(hosts_label([h for h, _ in hosts])), escape(address), *marks)
    return table


def print_details(group: FindingGroup, console: Console) -> None:
    """Findings shared by ``group.hosts``: under the host, or once for many hosts."""
    if len(group.hosts) == 1:
        host = group.hosts[0]
        console.print(f"[bold]{escape(host.name)}[/] ({escape(host.address)})")
    else:
        console.print(f"[bold]{escape(hosts_label([h.name for h in group.hosts]))}[/]")
    for finding in group.findings:
        label = escape(f"[{finding.group}]")
        console.print(f"  {LABELS[finding.status]} {label} {escape(finding.message)}")
        if finding.hint:
            console.print(f"      fix: {escape(finding.hint)}")


def print_report(report: PreflightReport, console: Console, facts_dir: str) -> None:
    print_table(console, summary_table(report))
    for key in report.new_host_keys:
        console.print(
            f"[yellow]trust on first use:[/] recorded {escape(key['type'])} host key "
            f"{escape(key['fingerprint'])} of {escape(key['host'])} ({escape(key['name'])})"
        )
    for group in group_notable(report.hosts):  # "192 hosts: swap is on" once, not 192 times
        print_details(group, console)
    counts = {s: sum(1 for h in report.hosts if h.status == s) for s in LABELS}
    console.print(
        f"{len(report.hosts)} host(s) checked in {report.seconds:.1f} s: {counts['ok']} ok, "
        f"{counts['warning']} with warnings, {counts['error']} with errors; "
        f"facts saved in {escape(facts_dir)}"
    )
