"""What a command does once: add-node loads the spec once, and the spec with the new host
once (not four times); the stage names are checked once (tests/cli/test_selection_and_plan.py);
the inventory is rendered and Ansible resolved once per deploy (tests/integration/test_run_plan.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import deepctl.engine.nodes as engine_nodes
from deepctl.clusterspec import loader
from deepctl.engine.display import make_display
from deepctl.engine.session import Operation, Selection
from deepctl.workspace import Workspace
from tests.specs import MINIMAL_SPEC


def test_add_node_loads_the_spec_and_the_spec_with_the_host_once_each(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = tmp_path / "cluster.yaml"
    spec.write_text(MINIMAL_SPEC, encoding="utf-8")
    loads: list[str] = []
    real = loader.load_spec_text

    def load(text: str, path: Path, **kwargs: Any) -> loader.LoadedSpec:
        loads.append("wk9" if "wk9" in text else "spec")
        return real(text, path, **kwargs)

    monkeypatch.setattr(loader, "load_spec_text", load)
    monkeypatch.setattr(engine_nodes, "load_spec_text", load)
    monkeypatch.setattr(engine_nodes, "require_usable_keys", lambda spec: None)  # no key here
    ran: list[tuple[Workspace, Operation]] = []
    monkeypatch.setattr(engine_nodes, "run_operation",
                        lambda ws, op, display: ran.append((ws, op)))  # the run: not here
    entry = {"name": "wk9", "address": "192.0.2.29", "roles": ["worker"]}
    engine_nodes.add_node(spec, None, entry, make_display(True),
                          selection=Selection(skip=("preflight",)))
    assert loads == ["spec", "wk9"]
    ws, op = ran[0]
    # the run sees the host; the file gets it only once it has joined (the spec stage)
    assert ws.cluster.host("wk9") is not None and "wk9" not in spec.read_text()
    assert op.command == "add-node"
