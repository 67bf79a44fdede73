"""The one stage runner: selection, "up to date", --from refusals, plans of every command."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from deepctl.engine.deploy import DeployOptions, deploy_operation
from deepctl.engine.plan import build_plan
from deepctl.engine.runplan import RunPlan, make_plan
from deepctl.engine.selection import StageChoice, Unmet, select_stages, still_to_run, unmet_before
from deepctl.engine.session import Operation
from deepctl.errors import UsageError
from deepctl.stages.context import PlanContext
from deepctl.stages.sequences import (
    DEPLOY,
    DEPLOY_STAGE_NAMES,
    add_node_stages,
    deploy_stages,
    remove_node_stages,
    reset_stages,
    upgrade_stages,
)
from deepctl.stages.stage import Stage, check_stage_names, ordered
from deepctl.state.ledger import LedgerEntry, load_ledger, record_entry
from deepctl.workspace import Workspace, open_workspace
from tests.specs import MINIMAL_SPEC


def workspace(tmp_path: Path) -> Workspace:
    spec = tmp_path / "cluster.yaml"
    spec.write_text(MINIMAL_SPEC)
    return open_workspace(spec)


def plan_of(ws: Workspace, command: str, stages: Sequence[Stage],
            choices: Sequence[StageChoice] = (), prefix: str = "") -> RunPlan:
    return make_plan(PlanContext(ws, None), command, stages, choices, load_ledger(ws.state),
                     prefix)


def test_every_stage_name_is_unique_per_command_and_ordered_by_after() -> None:
    for stages in (deploy_stages(), add_node_stages("wk2", ["worker"]),
                   add_node_stages("cp2", ["control-plane"]), remove_node_stages("wk2", False),
                   upgrade_stages("1.35.4"), reset_stages()):
        names = [s.name for s in stages]
        assert len(names) == len(set(names))
        for i, stage in enumerate(stages):
            assert set(stage.after) & set(names[i:]) == set(), (stage.name, stage.after)
    # deploy's sequence is written once (stages/sequences.py): no test pins it again
    assert set(DEPLOY_STAGE_NAMES) == {s.name for s in DEPLOY}


def test_a_cycle_in_after_is_refused() -> None:
    def noop(_: object) -> None:
        return None

    a = Stage("a", "A", lambda c: "", noop, after=("b",))
    b = Stage("b", "B", lambda c: "", noop, after=("a",))
    with pytest.raises(RuntimeError, match="cycle among: a, b"):
        ordered([a, b])


def test_unknown_stage_names_get_a_suggestion() -> None:
    with pytest.raises(UsageError) as raised:
        check_stage_names(["kubspray"], DEPLOY_STAGE_NAMES)
    assert "did you mean 'kubespray'" in raised.value.message


def test_from_past_a_stage_that_never_succeeded_is_refused(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    stages = deploy_stages()
    choices = select_stages([s.name for s in stages], from_stage="kubeconfig")
    with pytest.raises(UsageError) as raised:
        plan_of(ws, "deploy", stages, choices).check_from(f"deepctl deploy {ws.spec.path}")
    assert raised.value.message == ("--from kubeconfig would skip preflight, inventory, "
                                    "kubespray, which never succeeded for this cluster")
    assert raised.value.hint is not None
    assert f"run `deepctl deploy {ws.spec.path}`" in raised.value.hint
    assert "kubeconfig_localhost" not in raised.value.hint
    for name in ("preflight", "inventory", "kubespray"):
        record_entry(ws.state, name, LedgerEntry("h", "t", "r1"))
    plan_of(ws, "deploy", stages, choices).check_from("deepctl deploy x")  # now it may start there


def test_plan_honours_the_selection(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    plan = build_plan(ws, None, deploy_operation(ws, DeployOptions(only=["verify"])))
    doc = plan.to_json()
    assert [s["name"] for s in doc["stages"] if s["runs"]] == ["verify"]
    assert {s["name"]: s["reason"] for s in doc["stages"]}["kubespray"] == "not in --only"
    assert {s["name"]: s["reason"] for s in doc["stages"]}["gpu"] == "not in --only"
    assert doc["playbooks"] == []
    full = build_plan(ws, None, deploy_operation(ws, DeployOptions())).to_json()
    assert full["playbooks"] == ["cluster.yml"]
    gpu = next(s for s in full["stages"] if s["name"] == "gpu")
    assert (gpu["enabled"], gpu["selected"], gpu["runs"]) == (False, True, False)


def test_node_command_plans_describe_their_playbooks(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    op = Operation("remove-node", remove_node_stages("cp1", True), "x")
    plan = build_plan(ws, None, op)
    assert plan.playbooks == ["remove-node.yml"]
    assert "without resetting it" in plan.stages[0].description
    assert plan.stages[0].hosts == ("cp1",)
    plan = build_plan(ws, None, Operation("upgrade", upgrade_stages("1.35.4"), "x"))
    assert plan.playbooks == ["upgrade-cluster.yml"]
    assert plan.to_json()["command"] == "upgrade"


# -- node commands: stages that build on each other ------------------------------------------

ADD = ["preflight", "offline-ca", "facts", "scale", "gpu-ready", "verify"]
NEEDED = {"facts", "scale", "gpu-ready"}  # enabled, not checks only (offline-ca is off)


def test_a_selected_stage_needs_the_work_before_it_done_or_selected() -> None:
    assert unmet_before(ADD, NEEDED, {"verify"}, set()) == [
        Unmet("verify", ("facts", "scale", "gpu-ready"))]
    assert unmet_before(ADD, NEEDED, {"verify"}, {"facts", "scale", "gpu-ready"}) == []
    assert unmet_before(ADD, NEEDED, {"scale", "gpu-ready", "verify"}, {"facts"}) == []
    # checks (preflight, verify) are not needed by what comes after them
    assert unmet_before(ADD, NEEDED, {"facts", "scale", "gpu-ready", "verify"}, set()) == []
    assert unmet_before(ADD, NEEDED, {"preflight"}, set()) == []
    assert unmet_before(ADD, NEEDED, {"gpu-ready"}, {"scale"}) == [Unmet("gpu-ready", ("facts",))]


def test_an_operation_is_finished_when_its_needed_stages_are_done() -> None:
    assert still_to_run(ADD, NEEDED, {"preflight"}) == ["facts", "scale", "gpu-ready"]
    assert still_to_run(ADD, NEEDED, {"facts", "scale", "gpu-ready"}) == []  # checks skipped
    assert still_to_run(["upgrade", "spec"], {"upgrade", "spec"}, {"upgrade"}) == ["spec"]


def test_checks_only_stages_are_not_required(tmp_path: Path) -> None:
    ws = workspace(tmp_path)

    def required(stages: Sequence[Stage]) -> set[str]:
        return {d.name for d in plan_of(ws, "x", stages).stages if d.needed}

    assert required(add_node_stages("wk2", ["worker"])) == {"facts", "scale", "spec"}
    assert required(upgrade_stages("1.35.4")) == {"upgrade", "spec"}
    assert all(s.checks_only for s in deploy_stages() if s.name in ("preflight", "verify"))


def test_node_command_selections_out_of_order_are_refused_with_a_way_on(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    stages = upgrade_stages("1.35.4")
    only_spec = select_stages([s.name for s in stages], only=["spec"])
    hint = f"deepctl upgrade {ws.spec.path} --to 1.35.4 --yes"
    with pytest.raises(UsageError) as raised:
        plan_of(ws, "upgrade", stages, only_spec, "upgrade/").refuse_out_of_order(hint)
    assert raised.value.message == ("upgrade stage spec builds on upgrade, which did not "
                                    "succeed for this upgrade (or its inputs changed since)")
    assert raised.value.hint == (f"run `{hint}`: stages that finished are skipped, so it "
                                 "starts at the first one that did not")
    done = plan_of(ws, "upgrade", stages, only_spec, "upgrade/")["upgrade"].inputs_hash
    record_entry(ws.state, "upgrade/upgrade", LedgerEntry(done, "t", "r1"))
    plan_of(ws, "upgrade", stages, only_spec, "upgrade/").refuse_out_of_order(hint)  # allowed
    worker = add_node_stages("wk2", ["worker"])
    names = [s.name for s in worker]
    with pytest.raises(UsageError) as raised:  # a new host: nothing ran yet
        plan_of(ws, "add-node", worker, select_stages(names, skip=["facts"]),
                "add-node/").refuse_out_of_order(None)
    assert raised.value.message == "add-node stage scale builds on facts, which has not run yet"
    assert raised.value.hint == ("run the same add-node without the --from/--only/--skip that "
                                 "leaves out facts")
    # skipping a check is the user's call: nothing after it builds on it
    plan_of(ws, "add-node", worker, select_stages(names, skip=["preflight", "verify"]),
            "add-node/").refuse_out_of_order(None)
