"""``deepctl add-node``, ``remove-node``, ``reset``, ``upgrade`` and ``kubeconfig``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.markup import escape

from deepctl.cli_support import print_json, stdout
from deepctl.commands.confirm import confirm
from deepctl.errors import UsageError
from deepctl.executor.check import require_ready
from deepctl.names import summary
from deepctl.spec.syntax import user_problem
from deepctl.workspace import Workspace, open_workspace

if TYPE_CHECKING:
    from deepctl.engine.session import Operation, Selection
    from deepctl.stages.stage import Stage


def _done(what: str, record: Any, as_json: bool, **extra: Any) -> None:
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


def common_words(state_dir: Path | None, as_json: bool) -> list[object]:
    return [*(["--state-dir", state_dir] if state_dir else []), *(["--json"] if as_json else [])]


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


def _check_plan(ws: Workspace, op: Operation) -> None:
    """Refuse, before the question, a selection the run's plan would refuse (a stage that
    builds on one that did not succeed): the same pure check the run makes."""
    from deepctl import kubespray_source
    from deepctl.engine.session import check_plan, plan_operation

    tree = kubespray_source.find(ws.cluster, ws.spec.directory)
    check_plan(op, plan_operation(ws, tree, op))


def _dry_run(ws: Workspace, op: Operation, as_json: bool) -> None:
    from deepctl import kubespray_source
    from deepctl.commands.deploy import show_plan
    from deepctl.engine.lifecycle import plan_of

    tree = kubespray_source.find(ws.cluster, ws.spec.directory)
    show_plan(plan_of(ws, op, tree), str(ws.state.root), as_json)


def add_node(spec: Path, *, state_dir: Path | None, name: str, address: str,
             internal_address: str | None, roles: list[str], gpu: bool, labels: list[str],
             taints: list[str], yes: bool, accept_new_hosts: bool, as_json: bool,
             ssh_port: int | None = None, ssh_user: str | None = None,
             dry_run: bool = False, chosen: Selection | None = None) -> None:
    from deepctl.engine.display import make_display
    from deepctl.engine.nodes import add_node as engine_add
    from deepctl.engine.nodes import add_node_operation, add_node_words, prepare_add, refuse_fresh_selection
    from deepctl.stages.sequences import add_node_stages
    from deepctl.state.pending import load_pending

    problem = user_problem(ssh_user) if ssh_user is not None else None
    if problem is not None:  # the spec's own rule, before anything is read or asked
        raise UsageError(f"--ssh-user: {problem}")
    entry: dict[str, Any] = {"name": name, "address": address}
    if internal_address:
        entry["internalAddress"] = internal_address
    entry["roles"] = roles or ["worker"]
    if gpu:
        entry["gpu"] = True
    if labels:
        entry["labels"] = parse_labels(labels)
    if taints:
        entry["taints"] = list(taints)
    ssh = {k: v for k, v in (("user", ssh_user), ("port", ssh_port)) if v is not None}
    if ssh:
        entry["ssh"] = ssh
    chosen = chosen or selection(None, None, None, False)
    check_selection(chosen, add_node_stages(name, entry["roles"]))
    # the edited spec is checked (a host already there, a spec it would make invalid) first,
    # and for a new host a selection that leaves out what the selected stages build on
    disk = open_workspace(spec, state_dir, create=False)
    ws = prepare_add(disk, entry, None, write=False)
    if chosen.names() and not dry_run and name not in load_pending(disk.state):
        refuse_fresh_selection(disk, entry, chosen)
    if dry_run:
        _dry_run(ws, add_node_operation(ws, entry, selection=chosen), as_json)
        return
    confirm(f"Add {name} ({address}) to the cluster of {spec}?", yes,
            [*add_node_words(spec, entry, state_dir, accept_new_hosts),
             *selection_words(chosen), *(["--json"] if as_json else [])])
    require_ready(open_workspace(spec, state_dir, create=False), spec)  # spec.executor
    record = engine_add(spec, state_dir, entry, make_display(as_json),
                        accept_new_hosts=accept_new_hosts, selection=chosen)
    _done(f"added {name}", record, as_json, node=name)


def remove_node(spec: Path, name: str, *, state_dir: Path | None, force: bool, yes: bool,
                as_json: bool, dry_run: bool = False, chosen: Selection | None = None) -> None:
    from deepctl.engine.display import make_display
    from deepctl.engine.nodes import pending_untouched, remove_node_operation, with_pending_host
    from deepctl.engine.nodes import remove_node as engine_remove
    from deepctl.stages.sequences import remove_node_stages

    chosen = chosen or selection(None, None, None, False)
    check_selection(chosen, remove_node_stages(name, force))
    ws = with_pending_host(open_workspace(spec, state_dir, create=False), name)
    op = remove_node_operation(ws, name, force, chosen)  # unknown node, quorum... before asking
    if dry_run:
        _dry_run(ws, op, as_json)
        return
    if not pending_untouched(ws, name):  # forgetting a host add-node never changed asks not
        _check_plan(ws, op)  # a selection that skips work it needs: refused before asking
        confirm(f"Remove {name} from the cluster{' (forced: host not reset)' if force else ''}?",
                yes, ["deepctl", "remove-node", spec, name, *(["--force"] if force else []),
                      *selection_words(chosen), *common_words(state_dir, as_json)])
        require_ready(ws, spec)  # spec.executor: fit before any host is touched
    record = engine_remove(spec, state_dir, name, make_display(as_json), force=force,
                           selection=chosen)
    if record is None:
        if as_json:
            print_json({"event": "pending_dropped", "node": name}, one_line=True)
        return
    _done(f"removed {name}", record, as_json, node=name)


def reset(spec: Path, *, state_dir: Path | None, yes: bool, as_json: bool,
          dry_run: bool = False) -> None:
    from deepctl.engine.display import make_display
    from deepctl.engine.lifecycle import reset as engine_reset
    from deepctl.engine.lifecycle import reset_operation

    ws = open_workspace(spec, state_dir, create=False)
    if dry_run:
        _dry_run(ws, reset_operation(ws), as_json)
        return
    hosts = summary([h.name for h in ws.cluster.spec.hosts])
    confirm(f"Reset cluster {ws.cluster.name}: wipe Kubernetes from {hosts}?", yes,
            ["deepctl", "reset", spec, *common_words(state_dir, as_json)])
    require_ready(ws, spec)  # spec.executor: fit before any host is touched
    record = engine_reset(ws, make_display(as_json))
    _done(f"reset cluster {ws.cluster.name}", record, as_json)


def upgrade(spec: Path, *, state_dir: Path | None, to: str, yes: bool, as_json: bool,
            dry_run: bool = False, chosen: Selection | None = None) -> None:
    from deepctl.engine.display import make_display
    from deepctl.engine.lifecycle import upgrade as engine_upgrade
    from deepctl.engine.lifecycle import upgrade_operation
    from deepctl.stages.sequences import upgrade_stages

    chosen = chosen or selection(None, None, None, False)
    check_selection(chosen, upgrade_stages(to))
    ws = open_workspace(spec, state_dir, create=False)
    op = upgrade_operation(ws, to, chosen)  # an unsupported version or a skip, before asking
    if dry_run:
        _dry_run(ws, op, as_json)
        return
    _check_plan(ws, op)  # a selection that skips work it needs: refused before asking
    confirm(f"Upgrade the cluster of {spec} to Kubernetes {to}?", yes,
            ["deepctl", "upgrade", spec, "--to", to, *selection_words(chosen),
             *common_words(state_dir, as_json)])
    require_ready(ws, spec)  # spec.executor: fit before any host is touched
    record = engine_upgrade(spec, state_dir, to, make_display(as_json), chosen)
    _done(f"upgraded to Kubernetes {to}", record, as_json)


def kubeconfig(spec: Path, *, state_dir: Path | None, output: Path | None,
               as_json: bool) -> None:
    from deepctl.engine.lifecycle import kubeconfig as engine_kubeconfig

    path = engine_kubeconfig(spec, state_dir, output)
    if as_json:
        print_json({"kubeconfig": str(path)})
    else:
        print(path)
