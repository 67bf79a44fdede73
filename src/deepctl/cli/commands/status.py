"""``deepctl status``: render :func:`deepctl.status.report.status_report` (screen, JSON, watch).

Exit codes: 0 healthy (or not deployed yet), 1 degraded, 2 spec error, 4 API unreachable.
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import typer
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from deepctl.cli.support import print_json, stdout
from deepctl.cli.tables import natural_width, tables_for
from deepctl.errors import ApiUnreachable, ExitCode, UsageError
from deepctl.names import summary
from deepctl.shellwords import deepctl_command
from deepctl.status.model import NodeStatus, Platform, StatusReport
from deepctl.status.node_groups import (
    GROUP_ABOVE,
    MAX_OUTLIERS,
    NodeGroup,
    group_nodes,
    troubled_nodes,
)
from deepctl.status.report import status_report
from deepctl.workspace import Workspace, open_workspace


def exit_code(report: StatusReport) -> int:
    return ExitCode.FAILED if report.health == "degraded" else ExitCode.OK


def all_nodes(spec: Path, nodes: str, wide: bool) -> bool:
    """``--nodes auto|all`` and ``--wide``: True for one row per node."""
    if nodes not in ("auto", "all"):
        raise UsageError(f"--nodes {nodes}: use auto or all",
                         hint=f"`{deepctl_command('status', spec, '--nodes', 'all')}` (or --wide) "
                         "shows every node")
    return wide or nodes == "all"


def run(spec: Path, *, state_dir: Path | None, as_json: bool, watch: bool, interval: float,
        timeout: float = 30, all_nodes: bool = False) -> None:
    if watch and as_json:
        raise UsageError("--watch and --json cannot be combined",
                         hint="for scripts, run "
                         f"`{deepctl_command('status', spec, '--json')}` periodically")
    with gc_paused():
        ws = open_workspace(spec, state_dir, create=False)
    if watch:
        raise typer.Exit(watch_status(ws, interval, stdout(), timeout, all_nodes))
    with gc_paused():
        report = status_report(ws, timeout_s=timeout)  # one deadline for reading the cluster
        if as_json:
            print_json({**report.to_json(), "spec": str(ws.spec.path),
                        "stateDir": str(ws.state.root), "kubeconfig": str(ws.state.kubeconfig)})
        else:
            console = stdout()
            with natural_width(console):  # off a terminal: every name whole
                console.print(render(report, ws, console, all_nodes))
    raise typer.Exit(exit_code(report))


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for the block, back as it was after.

    At 5,000 nodes status builds about a million small objects (the spec's models, the pages'
    dicts, the rows) that all stay alive until it has printed; every automatic full
    collection walks all of them again, about a third of the command's CPU time for no
    garbage (what status builds holds no reference cycles to free early).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def watch_status(ws: Workspace, interval: float, console: Console, timeout: float = 30,
                 all_nodes: bool = False) -> int:
    """Refresh the screen every ``interval`` seconds until Ctrl-C; returns the exit code of
    the last *completed* refresh (0 before the first), wherever the Ctrl-C lands: between
    refreshes or during one (an unfinished refresh is dropped).

    On a terminal the screen is redrawn in place (rich Live); otherwise (a pipe, a log file)
    each refresh is printed after the previous one.
    """
    code = ExitCode.OK
    live = Live(console=console, auto_refresh=False) if console.is_terminal else None
    try:
        if live is not None:
            live.start()
        while True:
            screen, code = _snapshot(ws, interval, console, timeout, all_nodes)  # completed
            if live is not None:
                live.update(screen, refresh=True)
            else:
                with natural_width(console):
                    console.print(screen)
                    console.print()
            time.sleep(interval)
    except KeyboardInterrupt:
        return code
    finally:
        if live is not None:
            with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl-C while restoring
                live.stop()


def _snapshot(ws: Workspace, interval: float, console: Console | None = None,
              timeout: float | None = None, all_nodes: bool = False
              ) -> tuple[RenderableType, int]:
    footer = Text(f"updated {datetime.now():%H:%M:%S}, every {interval:g}s; Ctrl-C to stop",
                  style="dim")
    try:
        with gc_paused():
            report = status_report(ws, timeout_s=timeout)
    except ApiUnreachable as error:
        message = Text.assemble(("error: ", "bold red"), error.message)
        return Group(message, Text(f"hint: {error.hint}"), footer), error.exit_code
    return Group(render(report, ws, console, all_nodes), footer), exit_code(report)


def render(report: StatusReport, ws: Workspace, console: Console | None = None,
           all_nodes: bool = False) -> RenderableType:
    """The whole status screen (tables split to ``console``'s width on a terminal); past
    :data:`GROUP_ABOVE` nodes, identical healthy nodes grouped unless ``all_nodes``."""

    def fitted(table: Table) -> list[RenderableType]:
        return tables_for(console, table) if console is not None else [table]

    parts: list[RenderableType] = [_header(report, ws)]
    if report.state == "deployed":
        table, notes = _platform(report.platform)
        grouped = not all_nodes and len(report.nodes) > GROUP_ABOVE
        nodes = _grouped_tables(report) if grouped else [_nodes_table(report.nodes)]
        parts += [*(t for n in nodes for t in fitted(n)), *fitted(table), notes, _totals(report)]
    if report.history:
        parts += fitted(_history(report))
    elif report.state == "not-deployed":
        parts.append(Text("no runs yet"))
    parts += _problems(report)
    return Group(*parts)


def _header(report: StatusReport, ws: Workspace) -> RenderableType:
    if report.state == "not-deployed":
        return Text.from_markup(
            f"[bold]cluster {escape(report.cluster)}[/]: [yellow]not deployed[/] "
            f"(no kubeconfig at {escape(str(ws.state.kubeconfig))}; "
            f"run `{escape(deepctl_command('deploy', ws.spec.path))}`)", emoji=False)
    style = "green" if report.health == "healthy" else "red"
    return Text.from_markup(
        f"[bold]cluster {escape(report.cluster)}[/]: [bold {style}]{escape(report.health)}[/]\n"
        f"  API {escape(report.endpoint or '?')} (kubeconfig {escape(str(ws.state.kubeconfig))})",
        emoji=False)


def _gpu_cells(node: NodeStatus) -> list[str]:
    g = node.gpus
    if not node.in_cluster:
        return ["-", "-", str(g.expected) if g.expected is not None else "-", "-", "-"]
    if not (g.capacity or g.allocatable or node.gpu_host or g.mig_devices):
        return ["-", "-", "-", "-", "-"]
    expected = str(g.expected) if g.expected is not None else ("unknown" if node.gpu_host else "-")
    product = g.product or "-"
    if g.mig_devices:
        product += " (" + ", ".join(f"{k.removeprefix('nvidia.com/')}×{v}"
                                    for k, v in g.mig_devices.items()) + ")"
    mig = "/".join(x for x in (g.mig_config, g.mig_strategy) if x) or "-"
    return [f"{g.allocatable}/{g.capacity}", str(g.in_use), expected, product, mig]


def _nodes_table(nodes: list[NodeStatus]) -> Table:
    table = Table(title="Nodes", title_justify="left")
    # Only taints wrap (they can be long); the other cells stay on one line.
    for column in ("node", "status", "roles", "kubelet", "internal IP"):
        table.add_column(column, no_wrap=True)
    table.add_column("taints", overflow="fold", min_width=12)
    for column in ("GPUs alloc/cap", "in use", "expected", "GPU product", "MIG config/strategy"):
        table.add_column(column, no_wrap=True)
    for node in nodes:
        name = escape(node.name)
        if not node.in_spec:
            name += " [yellow](not in spec)[/]"
        status = {"Ready": "[green]Ready[/]", "missing": "[red]missing[/]"}.get(
            node.status, f"[red]{escape(node.status)}[/]")
        cells = [escape(c) for c in (", ".join(node.roles) or "<none>", node.kubelet or "-",
                                     node.internal_ip or "-", ", ".join(node.taints) or "-")]
        table.add_row(name, status, *cells, *(escape(c) for c in _gpu_cells(node)))
    return table


def _grouped_tables(report: StatusReport) -> list[Table]:
    """Identical healthy nodes, one row per kind; then the outliers, one row each."""
    groups, outliers = group_nodes(report.nodes, troubled_nodes(report))
    grouped = sum(len(g.names) for g in groups)
    table = Table(title=f"Nodes: {grouped} healthy of {len(report.nodes)} in {len(groups)} "
                  "groups of identical nodes (--nodes all: one row per node)",
                  title_justify="left")
    for column in ("nodes", "status", "roles", "kubelet", "taints", "GPUs alloc/cap", "in use",
                   "expected", "GPU product", "MIG config/strategy"):
        table.add_column(column)
    for g in groups:
        table.add_row(escape(_group_names(g)), f"[green]{g.status}[/]", escape(g.roles),
                      escape(g.kubelet), escape(g.taints), g.gpus,
                      str(g.in_use) if g.gpus != "-" else "-", g.expected, escape(g.product),
                      escape(g.mig))
    if not outliers:
        return [table]
    shown = outliers[:MAX_OUTLIERS]
    rest = outliers[MAX_OUTLIERS:]
    other = _nodes_table(shown)
    other.title = f"Nodes needing attention: {len(outliers)}"
    if rest:
        other.add_row(escape(f"… {len(rest)} more: {summary([n.name for n in rest])}"))
    return [table, other]


def _group_names(group: NodeGroup) -> str:
    names = list(group.names)
    return names[0] if len(names) == 1 else f"{len(names)}: {summary(names, counted=False)}"


def _platform(platform: Platform) -> tuple[Table, Text]:
    table = Table(title="Platform", title_justify="left")
    for column in ("addon", "namespace", "ready", "workloads"):
        table.add_column(column)
    for addon in platform.addons:
        ready = sum(1 for w in addon.workloads if w.is_ready)
        lines = [f"{ready}/{len(addon.workloads)} ready"] + [
            f"[red]{escape(f'{w.kind} {w.name} {w.ready}/{w.desired}')}[/]"
            for w in addon.workloads if not w.is_ready]
        mark = "[green]✓[/]" if addon.ready else "[red]✗[/]"
        table.add_row(escape(addon.name), escape(addon.namespace), mark, "\n".join(lines))
    lines = []
    if platform.cluster_policy is not None:
        policy = platform.cluster_policy
        lines.append(f"GPU Operator ClusterPolicy {policy.name}: {policy.state}")
    lines.append(f"default StorageClass: {platform.default_storage_class or 'none'}")
    for ep in platform.endpoints:
        where = (f"{ep.url} (Service {ep.namespace}/{ep.service}, {ep.type})" if ep.url
                 else f"cluster-internal ({ep.type}); run `{ep.port_forward}`" if ep.service
                 else f"no Service found in namespace {ep.namespace}")
        lines.append(f"{ep.name}: {where}")
    return table, Text("\n".join(f"  {line}" for line in lines))


def _totals(report: StatusReport) -> Text:
    t = report.totals
    unknown = summary(list(t.gpus_expected_unknown))
    expected = f"{t.gpus_expected} expected"
    if unknown and not t.gpus_expected:
        expected = f"expected unknown (no preflight facts for {unknown})"
    elif unknown:
        expected += f" (+ unknown on {unknown}: no preflight facts)"
    return Text(f"Totals: nodes {t.nodes_ready}/{t.nodes_total} ready · GPUs "
                f"{t.gpus_allocatable} allocatable / {expected} · {t.gpus_in_use} in use")


def _when(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).strftime("%Y-%m-%d %H:%M:%S %Z")
    except ValueError:
        return iso


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def _history(report: StatusReport) -> Table:
    table = Table(title="History (newest first)", title_justify="left")
    for column in ("started", "command", "result", "failed stage", "duration"):
        table.add_column(column)
    table.add_column("run", no_wrap=True)
    for run in report.history:
        style = {"succeeded": "green", "running": "cyan"}.get(run.result, "red")
        duration = _duration(run.duration_s)
        table.add_row(escape(_when(run.started_at)), escape(run.command),
                      f"[{style}]{escape(run.result)}[/]", escape(run.failed_stage or "-"),
                      escape(duration), escape(run.id))
    return table


def _problems(report: StatusReport) -> list[RenderableType]:
    if not report.problems:
        return []
    lines: list[RenderableType] = [Text("Problems:", style="bold")]
    for p in report.problems:
        mark, style = ("✗", "red") if p.severity == "error" else ("!", "yellow")
        lines.append(Text(f"  {mark} {p.format()}", style=style))
    return lines
