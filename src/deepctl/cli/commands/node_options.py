"""What the node commands share: their stage selections, the words of their resume hints,
the plan checked before the question, the dry run and the closing line."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.markup import escape

from deepctl.cli.commands.confirm import executor_words
from deepctl.cli.support import print_json, stdout
from deepctl.errors import UsageError
from deepctl.workspace import Workspace

if TYPE_CHECKING:
    from deepctl.engine.session import Operation, Selection
    from deepctl.stages.stage import Stage


def done(what: str, record: Any, as_json: bool, **extra: Any) -> None:
    """The end of a run: ``what`` happened, or, when the selection left stages out
    (``--only``...), which stages the command still has to run."""
    remaining = record.remaining
    if as_json:
        print_json({"event": "run_finished", "result": "succeeded", "run": record.id,
                    "finished": not remaining, "remaining": remaining, **extra},
                   one_line=True)
        return
    if remaining:
        left = escape(", ".join(remaining))
        stdout().print(f"[yellow]selected stages done, not finished[/]: {left} still to run "
                       f"(run {escape(record.id)})")
        return
    stdout().print(f"[green]{escape(what)}[/] (run {escape(record.id)})")


def selection(from_stage: str | None, only: list[str] | None, skip: list[str] | None,
              restart: bool) -> Selection:
    from deepctl.engine.session import Selection

    return Selection(from_stage, tuple(only or ()), tuple(skip or ()), restart)


def selection_words(chosen: Selection) -> list[str]:
    """``--from``, ``--only``, ``--skip`` and ``--restart`` as typed."""
    words = ["--from", chosen.from_stage] if chosen.from_stage else []
    for option, names in (("--only", chosen.only), ("--skip", chosen.skip)):
        for name in names:
            words += [option, name]
    return words + (["--restart"] if chosen.restart else [])


def common_words(state_dir: Path | None, as_json: bool, executor: str | None = None
                 ) -> list[object]:
    return [*(["--state-dir", state_dir] if state_dir else []), *executor_words(executor),
            *(["--json"] if as_json else [])]


def check_selection(chosen: Selection, stages: list[Stage]) -> None:
    """Unknown stage names and contradictions are usage errors before anything is asked."""
    chosen.choices([s.name for s in stages])


def parse_labels(labels: list[str]) -> dict[str, str]:
    out = {}
    for label in labels:
        key, sep, value = label.partition("=")
        if not sep or not key:
            raise UsageError(f"--label {label!r} is not of the form key=value")
        out[key] = value
    return out


def check_plan(ws: Workspace, op: Operation) -> None:
    """Refuse, before the question, a selection the run's plan would refuse (a stage that
    builds on one that did not succeed): the same pure check the run makes."""
    from deepctl.engine.session import check_plan, plan_operation
    from deepctl.kubespray import source as kubespray_source

    tree = kubespray_source.find(ws.cluster, ws.spec.directory)
    check_plan(op, plan_operation(ws, tree, op))


def print_node_plan(ws: Workspace, op: Operation, as_json: bool) -> None:
    from deepctl.cli.commands.deploy import show_plan
    from deepctl.engine.lifecycle import plan_of
    from deepctl.kubespray import source as kubespray_source

    tree = kubespray_source.find(ws.cluster, ws.spec.directory)
    show_plan(plan_of(ws, op, tree), str(ws.state.root), as_json)
