"""``deepctl verify``: run the checks of a level as a recorded run, or ``--render`` the
manifests it would apply. Exit codes: 0 all passed, 1 a check failed, 2 usage or spec."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.markup import escape

from deepctl.cli.commands.confirm import executor_words
from deepctl.cli.support import print_json, stdout
from deepctl.clusterspec.verify import LEVELS, VerifyLevel
from deepctl.errors import UsageError
from deepctl.executor.target import with_executor
from deepctl.fsutil import atomic_write, ensure_private_dir
from deepctl.names import summary
from deepctl.shellwords import deepctl_command
from deepctl.workspace import Workspace, open_workspace


def check_level(level: str | None, ws: Workspace) -> VerifyLevel:
    chosen = level or ws.cluster.spec.verify.level
    for known in LEVELS:
        if chosen == known:
            return known
    raise UsageError(f"unknown level {chosen!r}", hint=f"levels are: {', '.join(LEVELS)}")


def check_nodes(nodes: Sequence[str] | None, ws: Workspace) -> list[str] | None:
    if not nodes:
        return None
    from deepctl.clusterspec.rules import did_you_mean

    known = {h.name for h in ws.cluster.spec.hosts}
    for name in nodes:
        if name not in known:
            raise UsageError(f"{name!r} is not a host of {ws.spec.path}{did_you_mean(name, known)}",
                             hint=f"hosts are: {summary(sorted(known))}")
    return list(nodes)


def run(spec: Path, *, level: str | None, nodes: Sequence[str] | None, render: Path | None,
        state_dir: Path | None, as_json: bool, strict: bool = False, compare: bool = False,
        report: Path | None = None, drain: bool = False, yes: bool = False,
        executor: str | None = None) -> None:
    ws = with_executor(open_workspace(spec, state_dir, strict=strict), executor)
    chosen = check_level(level, ws)
    selected = check_nodes(nodes, ws)
    if drain and chosen == "quick":
        raise UsageError("--drain is for the diagnostics of levels standard and full",
                         hint=deepctl_command("verify", ws.spec.path, "--level", "standard", "--drain"))
    if render is not None:
        write_render(ws, chosen, selected, render, as_json, drain)
        return
    from deepctl.engine.display import make_display
    from deepctl.engine.verify import verify
    if drain:
        from deepctl.cli.commands.confirm import confirm

        drained = selected or [h.name for h in ws.cluster.gpu_hosts]
        confirm(f"Cordon and drain {summary(drained)} (their pods are evicted) for the "
                "diagnostics?", yes,
                ["deepctl", "verify", spec, "--level", chosen,
                 *[w for name in selected or [] for w in ("--nodes", name)],
                 *(["--state-dir", state_dir] if state_dir else []),
                 *(["--strict"] if strict else []), *(["--compare"] if compare else []),
                 *(["--report", report] if report else []), "--drain",
                 *executor_words(executor),
                 *(["--json"] if as_json else [])])
    from deepctl.executor.check import require_ready

    require_ready(ws, spec)  # spec.executor (or --executor): fit before any host is touched
    try:
        record = verify(ws, chosen, selected, make_display(as_json), drain)
    finally:
        if report is not None:
            write_report(ws, chosen, report)
        changes = changes_since_last(ws) if compare else []
        if not as_json:
            for line in changes:
                stdout().print(f"changed since the last verify: {escape(line)}")
    if as_json:
        print_json({"event": "run_finished", "result": "succeeded", "run": record.id,
                    "level": chosen, "findings": findings_of(ws, record.id),
                    **({"changes": changes} if compare else {})}, one_line=True)
    else:
        stdout().print(f"[green]verify passed[/] (level {chosen}, run {escape(record.id)})")


def _results(ws: Workspace) -> list[tuple[str, list[dict[str, Any]]]]:
    """(run id, findings) of the verify runs that kept findings, newest first."""
    from deepctl.state.runs import read_all

    out = []
    for run in read_all(ws.state):
        if run.command != "verify":
            continue
        path = ws.state.run(run.id).verify_results
        try:
            out.append((run.id, list(json.loads(path.read_text())["findings"])))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return out


def findings_of(ws: Workspace, run_id: str) -> list[dict[str, Any]]:
    return next((found for rid, found in _results(ws) if rid == run_id), [])


def write_report(ws: Workspace, level: VerifyLevel, path: Path) -> None:
    """``--report FILE.html``: the findings of the run just made (passed or failed)."""
    from deepctl.verify.report import html_report
    from deepctl.verify.results import Finding

    kept = _results(ws)
    findings = [Finding(**f) for f in kept[0][1]] if kept else []
    atomic_write(path, html_report(ws.cluster.name, level, findings,
                                   ws.cluster.spec.verify.tolerance), mode=0o600)


def changes_since_last(ws: Workspace) -> list[str]:
    """``--compare``: what fell between the last two verify runs that kept findings."""
    from deepctl.verify.results import Finding, compare

    kept = _results(ws)
    if len(kept) < 2:
        return []
    current = [Finding(**f) for f in kept[0][1]]
    return compare(kept[1][1], current, ws.cluster.spec.verify.tolerance)


def write_render(ws: Workspace, level: VerifyLevel, nodes: list[str] | None, directory: Path,
                 as_json: bool, drain: bool = False) -> None:
    from deepctl.preflight.saved import expected_gpus
    from deepctl.stages.verify_render import launcher_key, render

    gpus = expected_gpus(ws.state, [h.name for h in ws.cluster.gpu_hosts])
    rendered = render(ws.cluster, level, gpus, nodes, launcher_key() if level == "full" else None,
                      str(ws.spec.path), drain)
    ensure_private_dir(directory)
    for name, text in rendered.files.items():
        atomic_write(directory / name, text, mode=0o600)  # the launcher's key is in one of them
    if as_json:
        print_json({"level": level, "directory": str(directory), "files": list(rendered.files),
                    "notes": rendered.notes})
        return
    console = stdout()
    console.print(f"level {level}: {len(rendered.files)} file(s) in {escape(str(directory))}")
    for name in rendered.files:
        console.print(f"  {escape(name)}")
    for note in rendered.notes:
        console.print(f"  note: {escape(note)}")
