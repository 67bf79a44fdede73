"""``verify``: the deploy's verify stage as its own recorded run, at a chosen level."""

from __future__ import annotations

from collections.abc import Sequence

from deepctl.clusterspec.verify import VerifyLevel
from deepctl.engine.display import Display
from deepctl.engine.session import Operation, run_operation
from deepctl.shellwords import deepctl_command
from deepctl.stages.verify import VERIFY
from deepctl.state.record import RunRecord
from deepctl.workspace import Workspace


def verify_operation(ws: Workspace, level: VerifyLevel, nodes: Sequence[str] | None,
                     drain: bool = False) -> Operation:
    return Operation("verify", [VERIFY], deepctl_command("verify", ws.spec.path, "--level", level),
                     params={"level": level, "nodes": list(nodes) if nodes else None,
                             "drain": drain})


def verify(ws: Workspace, level: VerifyLevel, nodes: Sequence[str] | None,
           display: Display, drain: bool = False) -> RunRecord:
    return run_operation(ws, verify_operation(ws, level, nodes, drain), display)
