"""`deepctl reset`: wipe Kubernetes from every host (docs/reset.md)."""

from __future__ import annotations

from pathlib import Path

from deepctl.cli.commands.confirm import confirm
from deepctl.cli.commands.node_options import (
    common_words,
    done,
    print_node_plan,
)
from deepctl.executor.check import require_ready
from deepctl.executor.target import with_executor
from deepctl.names import summary
from deepctl.workspace import open_workspace


def reset(spec: Path, *, state_dir: Path | None, yes: bool, as_json: bool,
          dry_run: bool = False, executor: str | None = None) -> None:
    from deepctl.engine.display import make_display
    from deepctl.engine.lifecycle import reset as engine_reset
    from deepctl.engine.lifecycle import reset_operation

    ws = with_executor(open_workspace(spec, state_dir, create=False), executor)
    if dry_run:
        print_node_plan(ws, reset_operation(ws), as_json)
        return
    hosts = summary([h.name for h in ws.cluster.spec.hosts])
    confirm(f"Reset cluster {ws.cluster.name}: wipe Kubernetes from {hosts}?", yes,
            ["deepctl", "reset", spec, *common_words(state_dir, as_json, executor)])
    require_ready(ws, spec)  # spec.executor: fit before any host is touched
    record = engine_reset(ws, make_display(as_json))
    done(f"reset cluster {ws.cluster.name}", record, as_json)
