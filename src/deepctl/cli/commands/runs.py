"""``deepctl runs`` and ``deepctl logs``: the run history of a cluster."""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path

from rich.markup import escape
from rich.table import Table

from deepctl.cli.support import print_json, stdout
from deepctl.cli.tables import print_table
from deepctl.errors import StateError, UsageError
from deepctl.shellwords import deepctl_command
from deepctl.state.paths import RunDir
from deepctl.state.runs import list_runs, run_dirs
from deepctl.workspace import Workspace, open_workspace


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


def _prune(ws: Workspace, keep: int, dry_run: bool) -> tuple[list[Path], dict[str, str]]:
    from deepctl.state.retention import RunInfo, kept_runs, prune_runs

    infos = [RunInfo(r.id, r.command, r.result) for r in list_runs(ws.state)]
    return prune_runs(ws.state, keep, dry_run=dry_run), kept_runs(infos, keep)


def prune(spec: Path, *, state_dir: Path | None, keep: int | None, as_json: bool,
          dry_run: bool = False) -> None:
    from deepctl.engine.lock import cluster_lock
    from deepctl.state.retention import keep_from_env

    ws = open_workspace(spec, state_dir, create=False)
    count = keep if keep is not None else keep_from_env()
    removed: list[Path] = []
    kept: dict[str, str] = {}
    if ws.state.runs_dir.is_dir() and dry_run:
        removed, kept = _prune(ws, count, dry_run=True)  # reads only: no lock taken
    elif ws.state.runs_dir.is_dir():
        with cluster_lock(ws.state, "runs --prune"):
            removed, kept = _prune(ws, count, dry_run=False)
    if as_json:
        print_json({"stateDir": str(ws.state.root), "dryRun": dry_run, "kept": count,
                    "removed": [p.name for p in removed],
                    "keptRuns": [{"id": i, "reason": r} for i, r in kept.items()]})
        return
    for path in removed:
        print(f"{'would remove' if dry_run else 'removed'} {path}")
    newest = f"one of the newest {count}"
    for run_id, reason in kept.items():
        if reason != newest:  # the newest are kept by --keep; say why the others are
            print(f"kept {run_id}: {reason}")
    done = "would be removed (dry run: nothing deleted)" if dry_run else "removed"
    stdout().print(f"{len(removed)} run(s) {done}; {len(kept)} kept: the newest {count}, each "
                   "command's last successful run, and each command's last run if it did not "
                   "finish (its next run resumes from it)")


def check_list_options(*, keep: int | None, dry_run: bool) -> None:
    """``--keep`` and ``--dry-run`` mean something only with ``--prune``."""
    given = [o for o, v in (("--keep", keep is not None), ("--dry-run", dry_run)) if v]
    if given:
        raise UsageError(f"{' and '.join(given)} go{'es' if len(given) == 1 else ''} with "
                         "--prune", hint="add --prune to delete old runs (with --dry-run: "
                         "list what it would delete)")


def find_run(dirs: list[Path], run_id: str, runs_dir: Path, spec: Path) -> Path:
    """The one run ``run_id`` (an id or a unique prefix) names; else a usage error (exit 2),
    whether or not other runs exist."""
    matches = [d for d in dirs if d.name == run_id or d.name.startswith(run_id)]
    if len(matches) == 1:
        return matches[0]
    what = "no run" if not matches else f"{len(matches)} runs"
    hint = (f"list them with `{deepctl_command('runs', spec)}`" if dirs
            else f"there are no runs yet; a run starts with `{deepctl_command('deploy', spec)}`")
    raise UsageError(f"{what} matching {run_id!r} in {runs_dir}", hint=hint)


def logs(spec: Path, run_id: str | None, *, state_dir: Path | None, as_json: bool) -> None:
    ws = open_workspace(spec, state_dir, create=False)
    dirs = run_dirs(ws.state)
    if run_id is not None:
        target = find_run(dirs, run_id, ws.state.runs_dir, spec)
    elif not dirs:
        raise StateError(f"no runs yet in {ws.state.runs_dir}",
                         hint=f"run `{deepctl_command('deploy', spec)}` first")
    else:
        target = dirs[0]
    log = RunDir(target).log
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise StateError(f"cannot read {log}: {exc.strerror}") from None
    if as_json:
        print_json({"run": target.name, "log": str(log), "text": text})
        return
    sys.stdout.write(text)
    sys.stdout.flush()
