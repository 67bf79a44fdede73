"""``add-node SPEC --hosts FILE``: join a batch of workers in one run (docs/add-node.md).

The batch file's entries are checked as spec hosts (:mod:`deepctl.clusterspec.host_batch`),
then the run is add-node's worker stages for all of them at once: preflight of the new hosts,
facts, ``scale.yml --limit NEW1,NEW2,...`` (with ``spec.executors``, one ``--limit`` slice per
executor, merged into one progress view), then ``spec`` writes every entry into the spec file
in one write. Every host is pending (``pending-nodes.json``, each with the whole batch named)
until the add-node finishes; the same command resumes a failed one.
"""

from __future__ import annotations

import shlex
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from deepctl.clusterspec.edit import add_host_text
from deepctl.clusterspec.host_batch import load_host_batch
from deepctl.clusterspec.loader import LoadedSpec, load_spec_text, read_spec_text
from deepctl.engine.display import Display
from deepctl.engine.nodes import given_state_dir, join_tried, require_keys
from deepctl.engine.runner import Ledgered
from deepctl.engine.session import NO_SELECTION, Operation, Selection, plan_operation, run_operation
from deepctl.errors import DeepctlError, SpecError
from deepctl.executor.target import keep_executor, with_executor
from deepctl.names import summary
from deepctl.shellwords import deepctl_command
from deepctl.stages.context import StageContext
from deepctl.stages.sequences import DEPLOY_LEDGER_PREFIX, add_node_stages, deploy_stages
from deepctl.stages.spec_change import missing_hosts
from deepctl.state.pending import load_pending, set_pending
from deepctl.state.record import RunRecord, utc_now
from deepctl.workspace import Workspace, open_workspace


def batch_names(entries: list[dict[str, Any]]) -> tuple[str, ...]:
    return tuple(str(e["name"]) for e in entries)


def batch_words(spec: Path, hosts_file: Path, state_dir: Path | None = None,
                accept_new_hosts: bool = False, executor: str | None = None) -> list[str | Path]:
    """The add-node command line of a batch (pure), without ``--yes``."""
    words: list[str | Path] = ["deepctl", "add-node", spec, "--hosts", hosts_file]
    if state_dir is not None:
        words += ["--state-dir", state_dir]
    if executor is not None:
        words += ["--executor", executor]
    return words + (["--accept-new-hosts"] if accept_new_hosts else [])


def spec_with_hosts(ws: Workspace, entries: list[dict[str, Any]]) -> LoadedSpec:
    """The spec with the ``entries`` it does not name yet added, in memory."""
    text = ws.spec.path.read_text(encoding="utf-8")
    for entry in entries:
        if ws.cluster.host(str(entry["name"])) is None:
            text = add_host_text(text, entry)
    try:
        return load_spec_text(text, ws.spec.path)
    except SpecError as error:  # checked per entry already: a rule across the whole spec
        raise SpecError(f"with {summary(list(batch_names(entries)))} added, the spec would be "
                        f"invalid: {error.message}", error.problems,
                        f"{ws.spec.path} is unchanged; fix the batch and run it again") from None


def check_batch(ws: Workspace, hosts_file: Path) -> list[dict[str, Any]]:
    """The batch's entries, checked against the spec (a host already there is a duplicate,
    cited at FILE:LINE), unless the batch joined and is being resumed (every host of it in
    the spec is pending: the spec holds them, checked)."""
    pending = load_pending(ws.state)
    in_spec = [n for n in _names_in_file(hosts_file) if ws.cluster.host(n) is not None]
    if in_spec and all(n in pending for n in in_spec):
        return [dict(e) for e in _file_entries(hosts_file)]
    return load_host_batch(hosts_file, ws.spec)


def _file_entries(hosts_file: Path) -> list[dict[str, Any]]:
    """The batch file's mappings, unchecked (:func:`load_host_batch` checks them)."""
    try:
        data = yaml.safe_load(read_spec_text(hosts_file))
    except (yaml.YAMLError, SpecError):
        return []  # load_host_batch says what and where
    return [e for e in data if isinstance(e, dict)] if isinstance(data, list) else []


def _names_in_file(hosts_file: Path) -> list[str]:
    return [str(e["name"]) for e in _file_entries(hosts_file) if "name" in e]


def batch_operation(ws: Workspace, entries: list[dict[str, Any]], hosts_file: Path, *,
                    accept_new_hosts: bool = False, selection: Selection = NO_SELECTION,
                    executor: str | None = None) -> Operation:
    names = batch_names(entries)

    def done(ctx: StageContext) -> None:
        for name in names:
            set_pending(ctx.ws.state, name, None)

    words = batch_words(ws.spec.path, hosts_file, given_state_dir(ws), accept_new_hosts,
                        executor)
    return Operation(
        "add-node", add_node_stages(names, ["worker"]),
        shlex.join(str(w) for w in [*words, "--yes"]), selection,
        params={"hosts": entries, "batch": str(hosts_file)},
        accept_new_hosts=accept_new_hosts, on_success=done, in_order=True,
        ledger_prefix="add-node/", forget_on_success=True,
        establishes_in=Ledgered(deploy_stages(), DEPLOY_LEDGER_PREFIX))


def prepare_batch(ws: Workspace, entries: list[dict[str, Any]], display: Display | None,
                  write: bool) -> Workspace:
    """The workspace the batch runs on (every new host in the spec, in memory); with
    ``write`` every host is recorded pending, each naming the whole batch."""
    loaded = spec_with_hosts(ws, entries)
    if write:
        require_keys(ws)  # before anything is recorded or any host contacted
        names = list(batch_names(entries))
        pending = load_pending(ws.state)
        state = ws.state.create()
        for entry in entries:
            earlier = pending.get(str(entry["name"])) or {}
            set_pending(state, str(entry["name"]),
                        {**earlier, "since": earlier.get("since", utc_now()), "entry": entry,
                         "batch": names})
        if display is not None:
            display.message(f"{summary(names)} are pending in {ws.state.pending_file}: "
                            f"add-node writes them into {ws.spec.path} once they have joined")
    return keep_executor(Workspace(loaded, ws.state), ws)


def batch_plan_operation(spec: Path, state_dir: Path | None, hosts_file: Path,
                         selection: Selection, executor: str | None = None,
                         ) -> tuple[Workspace, Operation]:
    """The batch checked and its operation, without writing anything (``--dry-run``, and the
    checks before the question)."""
    ws = with_executor(open_workspace(spec, state_dir, create=False), executor)
    entries = check_batch(ws, hosts_file)
    preview = prepare_batch(ws, entries, None, write=False)
    op = batch_operation(preview, entries, hosts_file, selection=selection, executor=executor)
    if selection.names() and not _resumed(ws, entries):
        plan_operation(preview, None, op).refuse_out_of_order(None)
    return preview, op


def _resumed(ws: Workspace, entries: list[dict[str, Any]]) -> bool:
    pending = load_pending(ws.state)
    return any(n in pending for n in batch_names(entries))


def add_nodes(spec: Path, state_dir: Path | None, hosts_file: Path, display: Display, *,
              accept_new_hosts: bool = False, selection: Selection = NO_SELECTION,
              executor: str | None = None) -> RunRecord:
    """Run the batch add-node; a failure leaves every host of it pending, and says how to
    resume (the same command) or drop them."""
    ws, op = batch_plan_operation(spec, state_dir, hosts_file, selection, executor)
    disk = with_executor(open_workspace(spec, state_dir, create=False), executor)
    entries = list(op.params["hosts"])
    names = batch_names(entries)
    resumed = _resumed(disk, entries)
    ws = prepare_batch(disk, entries, None if resumed else display, write=True)
    op = batch_operation(ws, entries, hosts_file, accept_new_hosts=accept_new_hosts,
                         selection=selection, executor=executor)
    if resumed:
        where = ("they are in the spec" if not missing_hosts(spec, names)
                 else "they are not in the spec yet")
        op = replace(op, notes=(
            f"resuming add-node {summary(list(names))}: {where} and still pending",))
    try:
        return run_operation(ws, op, display)
    except DeepctlError as error:
        left = [n for n in names if n in load_pending(ws.state)]
        if left and missing_hosts(ws.spec.path, names):
            for name in left:
                tried = join_tried(ws, name)
                if tried:
                    set_pending(ws.state, name,
                                {**load_pending(ws.state)[name], "changed_by": tried})
            error.hint = "; ".join(p for p in (error.hint, _pending_note(ws, left)) if p)
        raise


def _pending_note(ws: Workspace, names: list[str]) -> str:
    first = names[0]
    return (f"{summary(names)} {'are' if len(names) > 1 else 'is'} not in {ws.spec.path}: "
            "add-node writes them there once they have joined; until then they are pending in "
            f"{ws.state.pending_file}. To drop one instead: "
            f"`{deepctl_command('remove-node', ws.spec.path, first)}` (each in turn)")
