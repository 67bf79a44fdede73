"""``--executor`` holds for the whole run: a spec read again during the command (add-node's
host written in, upgrade's version) keeps the executor the run started with."""

from __future__ import annotations

from pathlib import Path

from deepctl.clusterspec.loader import load_spec_text
from deepctl.executor.target import keep_executor, with_executor
from deepctl.state import StateDir
from deepctl.workspace import Workspace
from tests.specs import MINIMAL_SPEC


def workspace(extra: str = "") -> Workspace:
    text = MINIMAL_SPEC.replace("  addons:", extra + "  addons:")
    return Workspace(load_spec_text(text, Path("/specs/cluster.yaml")), StateDir(Path("/state")))


def test_the_option_survives_a_reload_and_the_spec_alone_is_unchanged() -> None:
    run = with_executor(workspace(), "10.0.0.5")
    reloaded = keep_executor(workspace(), run)
    executor = reloaded.cluster.spec.executor
    assert executor is not None and executor.address == "10.0.0.5"

    spec_only = workspace("  executor: {address: 10.0.0.6, user: runner}\n")
    again = keep_executor(workspace("  executor: {address: 10.0.0.6, user: runner}\n"), spec_only)
    assert again.cluster.spec.executor == spec_only.cluster.spec.executor

    local = workspace()
    assert keep_executor(local, workspace()) is local  # no executor: Ansible stays here
