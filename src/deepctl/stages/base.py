"""What a stage is: a title, the inputs it depends on, a ``should_run`` check and a run step.

Titles and dry-run descriptions come from :mod:`deepctl.stages.catalog` (the stages as
data); the modules beside this one implement the run step of each stage.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from deepctl.spec.models import Cluster

if TYPE_CHECKING:
    from deepctl.engine.display import Display
    from deepctl.engine.playbooks import Ansible
    from deepctl.engine.runrecord import RunRecord
    from deepctl.engine.signals import CancelToken
    from deepctl.kubespray_source import KubesprayTree
    from deepctl.workspace import Workspace


@dataclass
class StageContext:
    """Everything a stage's run step may use."""

    ws: Workspace
    tree: KubesprayTree
    record: RunRecord
    display: Display
    token: CancelToken
    ansible: Ansible
    accept_new_hosts: bool = False

    @property
    def cluster(self) -> Cluster:
        return self.ws.cluster


def inputs_hash(inputs: Any) -> str:
    """A stable hash of JSON-able inputs (key order does not matter)."""
    text = json.dumps(inputs, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Stage:
    """Base of every stage implementation."""

    name: str = ""

    def inputs(self, ctx: StageContext) -> Any:
        """What the stage depends on; when unchanged since it succeeded, it is up to date."""
        return None

    def should_run(self, ctx: StageContext, previous_hash: str | None, current_hash: str
                   ) -> tuple[bool, str]:
        """Whether to run now, and why (or why not)."""
        if previous_hash is None:
            return True, "never ran"
        if previous_hash != current_hash:
            return True, "inputs changed"
        return False, "up to date"

    def run(self, ctx: StageContext) -> None:
        raise NotImplementedError


class NotImplementedStage(Stage):
    """A catalog stage whose run step belongs to a later deepctl (post-install addons)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def should_run(self, ctx: StageContext, previous_hash: str | None, current_hash: str
                   ) -> tuple[bool, str]:
        return False, "not implemented yet in this deepctl"
