"""`deepctl upgrade`: Kubernetes to the next version (docs/upgrade.md)."""

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
from deepctl.executor.check import require_ready
from deepctl.executor.target import with_executor
from deepctl.workspace import open_workspace

if TYPE_CHECKING:
    from deepctl.engine.session import Selection


def upgrade(spec: Path, *, state_dir: Path | None, to: str, yes: bool, as_json: bool,
            dry_run: bool = False, chosen: Selection | None = None,
            executor: str | None = None) -> None:
    from deepctl.engine.display import make_display
    from deepctl.engine.lifecycle import upgrade as engine_upgrade
    from deepctl.engine.lifecycle import upgrade_operation
    from deepctl.stages.sequences import upgrade_stages

    chosen = chosen or selection(None, None, None, False)
    check_selection(chosen, upgrade_stages(to))
    ws = with_executor(open_workspace(spec, state_dir, create=False), executor)
    op = upgrade_operation(ws, to, chosen)  # an unsupported version or a skip, before asking
    if dry_run:
        print_node_plan(ws, op, as_json)
        return
    check_plan(ws, op)  # a selection that skips work it needs: refused before asking
    confirm(f"Upgrade the cluster of {spec} to Kubernetes {to}?", yes,
            ["deepctl", "upgrade", spec, "--to", to, *selection_words(chosen),
             *common_words(state_dir, as_json, executor)])
    require_ready(ws, spec)  # spec.executor: fit before any host is touched
    record = engine_upgrade(spec, state_dir, to, make_display(as_json), chosen, executor)
    done(f"upgraded to Kubernetes {to}", record, as_json)
