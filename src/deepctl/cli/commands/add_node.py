"""`deepctl add-node`: join one host, or a batch of workers (docs/add-node.md)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from deepctl.cli.commands.confirm import confirm
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
from deepctl.shellwords import deepctl_command
from deepctl.workspace import open_workspace

if TYPE_CHECKING:
    from deepctl.engine.session import Selection


ONE_HOST_OPTIONS = ("--name", "--address", "--internal-address", "--role", "--gpu", "--label",
                    "--taint", "--ssh-port", "--ssh-user")


def add_node(spec: Path, *, state_dir: Path | None, name: str | None, address: str | None,
             internal_address: str | None, roles: list[str], gpu: bool, labels: list[str],
             taints: list[str], yes: bool, accept_new_hosts: bool, as_json: bool,
             ssh_port: int | None = None, ssh_user: str | None = None,
             dry_run: bool = False, chosen: Selection | None = None,
             hosts_file: Path | None = None) -> None:
    given = [o for o, v in zip(ONE_HOST_OPTIONS, (name, address, internal_address, roles, gpu,
                                                  labels, taints, ssh_port, ssh_user),
                               strict=True) if v]
    if hosts_file is not None:
        if given:
            raise UsageError(f"--hosts FILE adds the hosts FILE lists; {', '.join(given)} "
                             f"{'are' if len(given) > 1 else 'is'} for one host",
                             hint=f"put {'them' if len(given) > 1 else 'it'} in the entries of "
                             f"{hosts_file} (spec.hosts' format), or add one host without "
                             "--hosts")
        add_batch(spec, hosts_file, state_dir=state_dir, yes=yes,
                  accept_new_hosts=accept_new_hosts, as_json=as_json, dry_run=dry_run,
                  chosen=chosen or selection(None, None, None, False))
        return
    if name is None or address is None:
        missing = " and ".join(o for o, v in (("--name", name), ("--address", address))
                               if v is None)
        raise UsageError(f"add-node needs {missing} (one host), or --hosts FILE (a batch)",
                         hint="give the new host's --name and --address, or list the new "
                         f"workers in a file for --hosts (`{deepctl_command('add-node', '--help')}`)")
    add_one(spec, state_dir=state_dir, name=name, address=address,
            internal_address=internal_address, roles=roles, gpu=gpu, labels=labels,
            taints=taints, yes=yes, accept_new_hosts=accept_new_hosts, as_json=as_json,
            ssh_port=ssh_port, ssh_user=ssh_user, dry_run=dry_run, chosen=chosen)


def add_batch(spec: Path, hosts_file: Path, *, state_dir: Path | None, yes: bool,
              accept_new_hosts: bool, as_json: bool, dry_run: bool, chosen: Selection) -> None:
    """``--hosts FILE``: every entry checked (FILE:LINE) before anything is asked or run."""
    from deepctl.engine.batch import add_nodes, batch_names, batch_plan_operation, batch_words
    from deepctl.engine.display import make_display
    from deepctl.names import summary

    hosts_file = hosts_file.expanduser().absolute()  # the resume hint runs from anywhere
    ws, op = batch_plan_operation(spec, state_dir, hosts_file, chosen)
    check_selection(chosen, list(op.stages))
    if dry_run:
        print_node_plan(ws, op, as_json)
        return
    names = list(batch_names(list(op.params["hosts"])))
    confirm(f"Add {len(names)} host(s) ({summary(names)}) to the cluster of {spec}?", yes,
            [*batch_words(spec, hosts_file, state_dir, accept_new_hosts),
             *selection_words(chosen), *(["--json"] if as_json else [])])
    require_ready(open_workspace(spec, state_dir, create=False), spec)  # spec.executor(s)
    record = add_nodes(spec, state_dir, hosts_file, make_display(as_json),
                       accept_new_hosts=accept_new_hosts, selection=chosen)
    done(f"added {summary(names)}", record, as_json, nodes=names)


def add_one(spec: Path, *, state_dir: Path | None, name: str, address: str,
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
        print_node_plan(ws, add_node_operation(ws, entry, selection=chosen), as_json)
        return
    confirm(f"Add {name} ({address}) to the cluster of {spec}?", yes,
            [*add_node_words(spec, entry, state_dir, accept_new_hosts),
             *selection_words(chosen), *(["--json"] if as_json else [])])
    require_ready(open_workspace(spec, state_dir, create=False), spec)  # spec.executor
    record = engine_add(spec, state_dir, entry, make_display(as_json),
                        accept_new_hosts=accept_new_hosts, selection=chosen)
    done(f"added {name}", record, as_json, node=name)
