"""What a stage may use: to be planned (the spec, the state, the Kubespray tree) and to run
(the run's record, its display, its Ansible, the cancel token).

The engine builds the contexts; stages only see these interfaces (Protocols), so ``stages``
imports nothing from ``engine`` and the layers stay one-way (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from deepctl.clusterspec.models import Cluster
from deepctl.kubespray.source import KubesprayTree
from deepctl.state.record import RunRecord
from deepctl.workspace import Workspace

Event = dict[str, Any]


class PlaybookRunner(Protocol):
    """Runs one playbook for the run (the engine's ``Ansible``); raises on failure or cancel."""

    def run(self, stage: str, playbook: str, *, limit: str | None = None,
            extravars: dict[str, Any] | None = None,
            on_event: Callable[[Event], None] | None = None,
            spread: Sequence[str] | None = None) -> object:
        """``spread``: the hosts the playbook works on, split into one ``--limit`` slice per
        executor when spec.executors has several (control plane and etcd first, on the
        primary); otherwise one run with ``limit``."""

    def use(self, workspace: Workspace) -> None:
        """The spec changed during the run: render it into the run's own inventory."""


class Messages(Protocol):
    def message(self, text: str) -> None: ...


class Cancel(Protocol):
    @property
    def canceled(self) -> bool: ...


@dataclass
class PlanContext:
    """What a stage's ``inputs`` and ``rerun`` read to decide whether it runs: the spec and
    its state directory, and the Kubespray tree (None for a dry run before it is fetched)."""

    ws: Workspace
    tree: KubesprayTree | None
    # the command's own arguments (``deploy --strict``, ``verify --level``), as its Operation
    # carries them: a stage's inputs may depend on them too (preflight passed with warnings)
    params: Mapping[str, Any] = field(default_factory=dict, kw_only=True)

    @property
    def cluster(self) -> Cluster:
        return self.ws.cluster


@dataclass
class StageContext(PlanContext):
    """Everything a stage's run step may use."""

    tree: KubesprayTree
    record: RunRecord
    display: Messages
    token: Cancel
    ansible: PlaybookRunner
    accept_new_hosts: bool = False
