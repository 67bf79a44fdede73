"""The ``refresh-facts`` stage: where deploy runs it, and the playbook it asks for."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

from deepctl.stages.refresh_facts import REFRESH_FACTS
from deepctl.stages.sequences import deploy_stages


class RecordingRunner:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def run(self, stage: str, playbook: str, **_: object) -> None:
        self.calls.append((stage, playbook))


def test_refresh_facts_runs_facts_yml_after_kubespray() -> None:
    names = [s.name for s in deploy_stages()]
    assert names.index("kubespray") < names.index("refresh-facts") < names.index("verify")
    runner = RecordingRunner()
    REFRESH_FACTS.run(cast(Any, SimpleNamespace(ansible=runner)))
    assert runner.calls == [("refresh-facts", "playbooks/facts.yml")]
