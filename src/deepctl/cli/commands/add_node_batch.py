"""`deepctl add-node SPEC --hosts FILE`: join a batch of workers (docs/add-node.md)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from deepctl.cli.commands.confirm import confirm
from deepctl.cli.commands.node_options import (
    check_selection,
    done,
    print_node_plan,
    selection_words,
)
from deepctl.errors import UsageError
from deepctl.executor.check import require_ready
from deepctl.executor.target import with_executor
from deepctl.shellwords import deepctl_command
from deepctl.workspace import open_workspace

if TYPE_CHECKING:
    from deepctl.engine.session import Selection

ONE_HOST_OPTIONS = ("--name", "--address", "--internal-address", "--role", "--gpu", "--label",
                    "--taint", "--ssh-port", "--ssh-user")


def one_host_options(*values: object) -> list[str]:
    """The one-host options given (``values`` in the order of :data:`ONE_HOST_OPTIONS`)."""
    return [o for o, v in zip(ONE_HOST_OPTIONS, values, strict=True) if v]


def add_batch(spec: Path, hosts_file: Path | None, *, state_dir: Path | None, given: list[str],
              yes: bool, accept_new_hosts: bool, as_json: bool, dry_run: bool,
              chosen: Selection, executor: str | None = None) -> None:
    """``--hosts FILE``: every entry checked (FILE:LINE) before anything is asked or run;
    ``--hosts`` with a one-host option, or neither ``--hosts`` nor ``--name`` and
    ``--address``, is a usage error."""
    from deepctl.engine.batch import add_nodes, batch_names, batch_plan_operation, batch_words
    from deepctl.engine.display import make_display
    from deepctl.names import summary

    if hosts_file is None:
        missing = [o for o in ("--name", "--address") if o not in given]
        raise UsageError(f"add-node needs {' and '.join(missing)} (one host), or --hosts FILE "
                         "(a batch)", hint="give the new host's --name and --address, or list "
                         "the new workers in a file for --hosts "
                         f"(`{deepctl_command('add-node', '--help')}`)")
    if given:
        raise UsageError(f"--hosts FILE adds the hosts FILE lists; {', '.join(given)} "
                         f"{'are' if len(given) > 1 else 'is'} for one host",
                         hint=f"put {'them' if len(given) > 1 else 'it'} in the entries of "
                         f"{hosts_file} (spec.hosts' format), or add one host without --hosts")
    hosts_file = hosts_file.expanduser().absolute()  # the resume hint runs from anywhere
    ws, op = batch_plan_operation(spec, state_dir, hosts_file, chosen, executor)
    check_selection(chosen, list(op.stages))
    if dry_run:
        print_node_plan(ws, op, as_json)
        return
    names = list(batch_names(list(op.params["hosts"])))
    confirm(f"Add {len(names)} host(s) ({summary(names)}) to the cluster of {spec}?", yes,
            [*batch_words(spec, hosts_file, state_dir, accept_new_hosts, executor),
             *selection_words(chosen), *(["--json"] if as_json else [])])
    # spec.executor(s) or --executor: fit before any host is touched
    require_ready(with_executor(open_workspace(spec, state_dir, create=False), executor), spec)
    record = add_nodes(spec, state_dir, hosts_file, make_display(as_json),
                       accept_new_hosts=accept_new_hosts, selection=chosen, executor=executor)
    done(f"added {summary(names)}", record, as_json, nodes=names)
