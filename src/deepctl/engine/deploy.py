"""``deploy``: the deploy stages, in order, as one recorded run (resumable)."""

from __future__ import annotations

from dataclasses import dataclass, field

from deepctl.engine.display import Display
from deepctl.engine.plan import Plan, build_plan
from deepctl.engine.session import Operation, Selection, run_operation
from deepctl.kubespray_source import KubesprayTree
from deepctl.shellwords import deepctl_command
from deepctl.stages.sequences import deploy_stages
from deepctl.state.record import RunRecord
from deepctl.workspace import Workspace


@dataclass(frozen=True)
class DeployOptions:
    from_stage: str | None = None
    only: list[str] = field(default_factory=list)
    skip: list[str] = field(default_factory=list)
    restart: bool = False
    accept_new_hosts: bool = False

    def selection(self) -> Selection:
        return Selection(self.from_stage, tuple(self.only), tuple(self.skip), self.restart)


def deploy_operation(ws: Workspace, options: DeployOptions) -> Operation:
    return Operation("deploy", deploy_stages(), deepctl_command("deploy", ws.spec.path),
                     options.selection(), accept_new_hosts=options.accept_new_hosts)


def deploy(ws: Workspace, options: DeployOptions, display: Display) -> RunRecord:
    return run_operation(ws, deploy_operation(ws, options), display)


def deploy_plan(ws: Workspace, options: DeployOptions, tree: KubesprayTree | None) -> Plan:
    """``deploy --dry-run``: the plan, honouring ``--from/--only/--skip``."""
    op = deploy_operation(ws, options)
    return build_plan(ws.cluster, tree, op.stages, op.choices())
