"""`deepctl add-node`: join one host (docs/add-node.md); a batch: add_node_batch.py."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from deepctl.cli.commands.confirm import confirm, executor_words
from deepctl.cli.commands.node_options import (
    check_selection,
    done,
    parse_labels,
    print_node_plan,
    selection,
    selection_words,
)
from deepctl.clusterspec.syntax import user_problem
from deepctl.errors import UsageError
from deepctl.executor.check import require_ready
from deepctl.executor.target import with_executor
from deepctl.workspace import open_workspace

if TYPE_CHECKING:
    from deepctl.engine.session import Selection


def add_node(spec: Path, *, state_dir: Path | None, name: str | None, address: str | None,
             hosts_file: Path | None = None,
             internal_address: str | None, roles: list[str], gpu: bool, labels: list[str],
             taints: list[str], yes: bool, accept_new_hosts: bool, as_json: bool,
             ssh_port: int | None = None, ssh_user: str | None = None,
             dry_run: bool = False, chosen: Selection | None = None,
             executor: str | None = None) -> None:
    from deepctl.engine.display import make_display
    from deepctl.engine.nodes import add_node as engine_add
    from deepctl.engine.nodes import add_node_operation, add_node_words, prepare_add, refuse_fresh_selection
    from deepctl.stages.sequences import add_node_stages
    from deepctl.state.pending import load_pending

    if hosts_file is not None or name is None or address is None:  # --hosts FILE: a batch
        from deepctl.cli.commands.add_node_batch import add_batch, one_host_options

        given = one_host_options(name, address, internal_address, roles, gpu, labels, taints,
                                 ssh_port, ssh_user)
        add_batch(spec, hosts_file, state_dir=state_dir, given=given, yes=yes,
                  accept_new_hosts=accept_new_hosts, as_json=as_json, dry_run=dry_run,
                  chosen=chosen or selection(None, None, None, False), executor=executor)
        return
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
    disk = with_executor(open_workspace(spec, state_dir, create=False), executor)
    ws = prepare_add(disk, entry, None, write=False)
    if chosen.names() and not dry_run and name not in load_pending(disk.state):
        refuse_fresh_selection(disk, entry, chosen)
    if dry_run:
        print_node_plan(ws, add_node_operation(ws, entry, selection=chosen), as_json)
        return
    confirm(f"Add {name} ({address}) to the cluster of {spec}?", yes,
            [*add_node_words(spec, entry, state_dir, accept_new_hosts),
             *selection_words(chosen), *executor_words(executor),
             *(["--json"] if as_json else [])])
    require_ready(disk, spec)  # spec.executor (or --executor): fit before any host is touched
    record = engine_add(spec, state_dir, entry, make_display(as_json),
                        accept_new_hosts=accept_new_hosts, selection=chosen, executor=executor)
    done(f"added {name}", record, as_json, node=name)
