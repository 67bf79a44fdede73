"""What a stage's ``run`` may use: the spec, the state, the run's record and its Ansible.

The engine builds the context; stages only see these interfaces (Protocols), so ``stages``
imports nothing from ``engine`` and the layers stay one-way (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from deepctl.kubespray_source import KubesprayTree
from deepctl.spec.models import Cluster
from deepctl.state.record import RunRecord
from deepctl.workspace import Workspace

Event = dict[str, Any]


class PlaybookRunner(Protocol):
    """Runs one playbook for the run (the engine's ``Ansible``); raises on failure or cancel."""

    def run(self, stage: str, playbook: str, *, limit: str | None = None,
            extravars: dict[str, Any] | None = None,
            on_event: Callable[[Event], None] | None = None) -> object: ...

    def use(self, workspace: Workspace) -> None:
        """The spec changed during the run: render it into the run's own inventory."""


class Messages(Protocol):
    def message(self, text: str) -> None: ...


class Cancel(Protocol):
    @property
    def canceled(self) -> bool: ...


@dataclass
class StageContext:
    """Everything a stage's run step may use. ``params`` are the command's own arguments
    (the node being added, the target version...)."""

    ws: Workspace
    tree: KubesprayTree
    record: RunRecord
    display: Messages
    token: Cancel
    ansible: PlaybookRunner
    accept_new_hosts: bool = False
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def cluster(self) -> Cluster:
        return self.ws.cluster
