"""The plan a dry run shows is the plan that runs (engine/runplan.py), through the Kubespray
stand-in on loopback SSH hosts; per deploy, one inventory rendering and one lookup of
Ansible, whose environment and binary the --list-tasks count uses too."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import pytest

from deepctl.ansible import runner as ansible_runner_module
from deepctl.engine import playbooks as engine_playbooks
from deepctl.engine.deploy import DeployOptions, deploy_operation
from deepctl.engine.display import make_display
from deepctl.engine.session import run_operation
from deepctl.kubevars import render as inventory_module
from deepctl.stages import sequences
from deepctl.stages.context import PlanContext
from deepctl.stages.stage import Stage
from deepctl.workspace import open_workspace
from tests.harness import HostFarm, HostProfile
from tests.integration.engine_support import deepctl, markers, run_state, write_spec

pytestmark = pytest.mark.integration

SKIP_PREFLIGHT = ("--skip", "preflight")


def test_the_dry_run_plan_is_what_the_next_deploy_does(ssh_host_farm: HostFarm,
                                                         tmp_path: Path) -> None:
    cp1, wk1 = ssh_host_farm.add_many([HostProfile("cp1"), HostProfile("wk1")])
    spec = write_spec(tmp_path, ssh_host_farm,
                      {cp1: ["control-plane", "etcd", "worker"], wk1: ["worker"]}, cp1)
    first = deepctl("deploy", str(spec), "--yes", *SKIP_PREFLIGHT, cwd=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr

    dry = deepctl("deploy", str(spec), "--dry-run", "--json", *SKIP_PREFLIGHT, cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    plan = {s["name"]: s for s in json.loads(dry.stdout)["stages"]}
    assert (plan["kubespray"]["runs"], plan["kubespray"]["reason"]) == (False, "up to date")
    assert (plan["inventory"]["runs"], plan["inventory"]["reason"]) == (False, "up to date")
    assert (plan["gpu"]["runs"], plan["gpu"]["reason"]) == (False, "not enabled in the spec")
    assert (plan["preflight"]["runs"], plan["preflight"]["reason"]) == (False, "--skip")
    assert (plan["verify"]["runs"], plan["verify"]["reason"]) == (True, "always checks")
    assert plan["verify"]["hosts"] == ["cp1"]  # asked on the first control plane
    assert plan["kubespray"]["hosts"] == ["cp1", "wk1"]
    assert json.loads(dry.stdout)["playbooks"] == []  # cluster.yml does not run again
    text = deepctl("deploy", str(spec), "--dry-run", *SKIP_PREFLIGHT, cwd=tmp_path).stdout
    assert "skipped: up to date" in text

    again = deepctl("deploy", str(spec), "--yes", *SKIP_PREFLIGHT, cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    state = run_state(tmp_path)
    stages = state["stages"]
    assert isinstance(stages, dict)
    assert state["stage_order"] == list(plan)
    for name, decision in plan.items():  # the run did what the plan said, stage by stage
        if decision["runs"]:
            assert stages[name]["status"] == "succeeded", name
        else:
            assert stages[name] == {"status": "skipped", "reason": decision["reason"]}, name
    assert markers(tmp_path, "cp1") == ["cluster.yml"]  # the first deploy's, no other


def counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Count every rendering of the inventory, whichever module calls it."""
    calls: list[str] = []
    real: Callable[..., Any] = inventory_module.render_inventory

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(str(args[1]) if len(args) > 1 else "")
        return real(*args, **kwargs)

    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith("deepctl") and \
                getattr(module, "render_inventory", None) is real:
            monkeypatch.setattr(module, "render_inventory", counted)
    return calls


class ListTasks:
    """Records the ``--list-tasks`` the engine starts (instead of starting it)."""

    started: ClassVar[list[tuple[list[str], dict[str, str]]]] = []

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path,
                 on_total: Callable[[int], None]) -> None:
        ListTasks.started.append((argv, dict(env)))

    def stop(self) -> None:
        return None


def test_a_deploy_renders_the_inventory_finds_ansible_and_asks_reruns_once(
        ssh_host_farm: HostFarm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cp1, wk1 = ssh_host_farm.add_many([HostProfile("cp1"), HostProfile("wk1")])
    spec = write_spec(tmp_path, ssh_host_farm,
                      {cp1: ["control-plane", "etcd", "worker"], wk1: ["worker"]}, cp1)
    monkeypatch.chdir(tmp_path)
    calls = counting(monkeypatch)
    lookups: list[str] = []
    real_binary = ansible_runner_module.ansible_binary

    def binary(name: str) -> str:
        lookups.append(name)
        return real_binary(name)

    monkeypatch.setattr(ansible_runner_module, "ansible_binary", binary)
    monkeypatch.setattr(engine_playbooks, "TaskCounter", ListTasks)
    ListTasks.started.clear()
    ws = open_workspace(spec)
    record = run_operation(ws, deploy_operation(ws, DeployOptions(skip=["preflight"])),
                           make_display(True, io.StringIO()))
    assert record.remaining == [] and record.duration_s is not None
    assert run_state(tmp_path)["result"] == "succeeded"
    assert markers(tmp_path, "cp1") == ["cluster.yml"]
    assert len(calls) == 1, calls
    assert lookups == ["ansible-playbook"]  # not once per playbook
    assert ListTasks.started  # cluster.yml's tasks counted, through the same boundary:
    env = json.loads((record.dir / "env.json").read_text())
    for argv, listed_env in ListTasks.started:
        assert argv[0] == env["DEEPCTL_ANSIBLE_PLAYBOOK"] == real_binary("ansible-playbook")
        assert {k: listed_env[k] for k in env} == env  # the playbooks' own environment

    # a second deploy: every stage's rerun is asked at most once (only those up to date)
    asked: list[str] = []

    def counted_rerun(stage: Stage) -> Stage:
        def rerun(ctx: PlanContext) -> str | None:
            asked.append(stage.name)
            return stage.rerun(ctx)
        return replace(stage, rerun=rerun)

    monkeypatch.setattr(sequences, "DEPLOY", tuple(counted_rerun(s) for s in sequences.DEPLOY))
    calls.clear()
    ws = open_workspace(spec)
    run_operation(ws, deploy_operation(ws, DeployOptions(skip=["preflight"])),
                  make_display(True, io.StringIO()))
    assert sorted(asked) == ["inventory", "kubeconfig", "kubespray", "verify"]  # once each
    assert len(calls) == 1, calls
    assert markers(tmp_path, "cp1") == ["cluster.yml"]
