"""``deepctl runs`` and ``deepctl logs``: the run history of a cluster."""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path

from rich.markup import escape
from rich.table import Table

from deepctl.cli_support import print_json, stdout
from deepctl.errors import StateError, UsageError
from deepctl.shellwords import deepctl_command
from deepctl.state.runs import list_runs, run_dirs
from deepctl.tables import print_table
from deepctl.workspace import open_workspace


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{seconds:.1f}s"


def runs(spec: Path, *, state_dir: Path | None, limit: int | None, as_json: bool) -> None:
    ws = open_workspace(spec, state_dir, create=False)
    history = list_runs(ws.state, limit)
    if as_json:
        print_json({"stateDir": str(ws.state.root), "runs": [asdict(r) for r in history]})
        return
    if not history:
        stdout().print(f"no runs yet in {escape(str(ws.state.runs_dir))}")
        return
    table = Table()
    for column in ("run", "command", "started", "duration", "result", "failed stage"):
        table.add_column(column, no_wrap=True)
    style = {"succeeded": "green", "failed": "red", "canceled": "yellow",
             "interrupted": "yellow", "running": "bold"}
    for run in history:
        result = f"[{style[run.result]}]{run.result}[/]"
        if run.remaining:  # a node command run with --only/--skip/--from, not finished
            result += f" (not finished: {escape(', '.join(run.remaining))} to run)"
        table.add_row(escape(run.id), escape(run.command), escape(run.started_at),
                      escape(_duration(run.duration_s)), result, escape(run.failed_stage or "-"))
    print_table(stdout(), table)  # run ids whole: `deepctl logs` takes them


def prune(spec: Path, *, state_dir: Path | None, keep: int | None, as_json: bool) -> None:
    from deepctl.engine.lock import cluster_lock
    from deepctl.state.retention import keep_from_env, prune_runs

    ws = open_workspace(spec, state_dir, create=False)
    count = keep if keep is not None else keep_from_env()
    if not ws.state.runs_dir.is_dir():
        removed = []
    else:
        with cluster_lock(ws.state, "runs --prune"):
            removed = prune_runs(ws.state, count)
    if as_json:
        print_json({"stateDir": str(ws.state.root), "kept": count,
                    "removed": [p.name for p in removed]})
        return
    for path in removed:
        print(f"removed {path}")
    stdout().print(f"{len(removed)} run(s) removed; kept the newest {count} and each command's "
                   "last successful run")


def logs(spec: Path, run_id: str | None, *, state_dir: Path | None, as_json: bool) -> None:
    ws = open_workspace(spec, state_dir, create=False)
    dirs = run_dirs(ws.state)
    if not dirs:
        raise StateError(f"no runs yet in {ws.state.runs_dir}",
                         hint=f"run `{deepctl_command('deploy', spec)}` first")
    if run_id is None:
        target = dirs[0]
    else:
        matches = [d for d in dirs if d.name == run_id or d.name.startswith(run_id)]
        if len(matches) != 1:
            what = "no run" if not matches else f"{len(matches)} runs"
            raise UsageError(f"{what} matching {run_id!r} in {ws.state.runs_dir}",
                             hint=f"list them with `{deepctl_command('runs', spec)}`")
        target = matches[0]
    log = target / "deepctl.log"
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise StateError(f"cannot read {log}: {exc.strerror}") from None
    if as_json:
        print_json({"run": target.name, "log": str(log), "text": text})
        return
    sys.stdout.write(text)
    sys.stdout.flush()
