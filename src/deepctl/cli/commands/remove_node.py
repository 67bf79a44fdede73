"""`deepctl remove-node`: drain and remove one node (docs/remove-node.md)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from deepctl.cli.commands.confirm import confirm
from deepctl.cli.commands.node_options import (
    check_plan,
    check_selection,
    common_words,
    done,
    print_node_plan,
    selection,
    selection_words,
)
from deepctl.cli.support import print_json
from deepctl.executor.check import require_ready
from deepctl.executor.target import with_executor
from deepctl.workspace import open_workspace

if TYPE_CHECKING:
    from deepctl.engine.session import Selection


def remove_node(spec: Path, name: str, *, state_dir: Path | None, force: bool, yes: bool,
                as_json: bool, dry_run: bool = False, chosen: Selection | None = None,
                executor: str | None = None) -> None:
    from deepctl.engine.display import make_display
    from deepctl.engine.nodes import pending_untouched, remove_node_operation, with_pending_host
    from deepctl.engine.nodes import remove_node as engine_remove
    from deepctl.stages.sequences import remove_node_stages

    chosen = chosen or selection(None, None, None, False)
    check_selection(chosen, remove_node_stages(name, force))
    ws = with_pending_host(with_executor(open_workspace(spec, state_dir, create=False),
                                         executor), name)
    op = remove_node_operation(ws, name, force, chosen)  # unknown node, quorum... before asking
    if dry_run:
        print_node_plan(ws, op, as_json)
        return
    if not pending_untouched(ws, name):  # forgetting a host add-node never changed asks not
        check_plan(ws, op)  # a selection that skips work it needs: refused before asking
        confirm(f"Remove {name} from the cluster{' (forced: host not reset)' if force else ''}?",
                yes, ["deepctl", "remove-node", spec, name, *(["--force"] if force else []),
                      *selection_words(chosen), *common_words(state_dir, as_json, executor)])
        require_ready(ws, spec)  # spec.executor: fit before any host is touched
    record = engine_remove(spec, state_dir, name, make_display(as_json), force=force,
                           selection=chosen, executor=executor)
    if record is None:
        if as_json:
            print_json({"event": "pending_dropped", "node": name}, one_line=True)
        return
    done(f"removed {name}", record, as_json, node=name)
