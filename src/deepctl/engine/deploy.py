"""``deploy`` as the engine runs it: the deploy stages, keyed by their names in the ledger
(resumable); the command runs it with :func:`~deepctl.engine.session.run_operation` and
shows it with :func:`~deepctl.engine.plan.build_plan`."""

from __future__ import annotations

from dataclasses import dataclass, field

from deepctl.engine.session import Operation, Selection
from deepctl.shellwords import deepctl_command
from deepctl.stages.sequences import DEPLOY_LEDGER_PREFIX, deploy_stages
from deepctl.workspace import Workspace


@dataclass(frozen=True)
class DeployOptions:
    from_stage: str | None = None
    only: list[str] = field(default_factory=list)
    skip: list[str] = field(default_factory=list)
    restart: bool = False
    accept_new_hosts: bool = False
    strict: bool = False  # --strict: warnings are errors (the preflight stage's too)

    def selection(self) -> Selection:
        return Selection(self.from_stage, tuple(self.only), tuple(self.skip), self.restart)


def deploy_operation(ws: Workspace, options: DeployOptions) -> Operation:
    words = ("--strict",) if options.strict else ()
    return Operation("deploy", deploy_stages(), deepctl_command("deploy", ws.spec.path, *words),
                     options.selection(), ledger_prefix=DEPLOY_LEDGER_PREFIX,
                     accept_new_hosts=options.accept_new_hosts,
                     params={"strict": True} if options.strict else {})

