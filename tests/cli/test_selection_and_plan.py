"""Stage selection: contradictions are usage errors; the dry-run plan honours the selection."""

from __future__ import annotations

import json

import pytest

from deepctl.engine.selection import select_stages
from deepctl.errors import UsageError
from deepctl.names import compress, hosts_label, summary
from tests.cli.conftest import Invoke, Sandbox

ORDER = ["preflight", "inventory", "kubespray", "kubeconfig", "verify"]


@pytest.mark.parametrize(("kwargs", "fragment"), [
    ({"only": ["kubespray"], "skip": ["kubespray"]}, "--only and --skip both name kubespray"),
    ({"from_stage": "kubespray", "skip": ["kubespray"]}, "--from kubespray is also in --skip"),
    ({"skip": ORDER}, "selects no stage"),
])
def test_contradictory_selections_are_usage_errors(kwargs: dict[str, object],
                                                   fragment: str) -> None:
    with pytest.raises(UsageError) as caught:
        select_stages(ORDER, **kwargs)  # type: ignore[arg-type]
    assert fragment in caught.value.message


def test_dry_run_json_plan_marks_what_the_selection_leaves_out(cli: Invoke,
                                                               sandbox: Sandbox) -> None:
    spec = sandbox.spec()
    result = cli("deploy", str(spec), "--dry-run", "--only", "verify", "--json")
    assert result.exit_code == 0, result.output
    stages = {s["name"]: s for s in json.loads(result.stdout)["stages"]}
    assert [n for n, s in stages.items() if s["runs"]] == ["verify"]
    assert stages["kubespray"]["selected"] is False
    assert stages["kubespray"]["reason"] == "not in --only"
    text = cli("deploy", str(spec), "--dry-run", "--only", "verify").stdout
    assert "skipped: not in --only" in text
    bad = cli("deploy", str(spec), "--dry-run", "--only", "kubespray", "--skip", "kubespray")
    assert bad.exit_code == 2 and "--only and --skip both name kubespray" in bad.stderr


def test_node_commands_check_their_selection_before_asking(cli: Invoke, sandbox: Sandbox) -> None:
    spec = sandbox.spec()
    typo = cli("upgrade", str(spec), "--to", "1.35.4", "--only", "spce")  # no --yes, no prompt
    assert typo.exit_code == 2, typo.output
    assert "did you mean 'spec'" in typo.stderr and "Upgrade the cluster" not in typo.output
    both = cli("add-node", str(spec), "--name", "wk9", "--address", "10.0.0.9",
               "--from", "scale", "--only", "verify")
    assert both.exit_code == 2 and "--only and --from cannot be used together" in both.stderr
    assert "wk9" not in spec.read_text()
    plan = cli("add-node", str(spec), "--name", "wk9", "--address", "10.0.0.9", "--dry-run",
               "--json", "--skip", "preflight")
    assert plan.exit_code == 0, plan.output
    assert [s["name"] for s in json.loads(plan.stdout)["stages"] if s["runs"]] == [
        "facts", "scale", "spec", "verify"]
    assert "wk9" not in spec.read_text()  # a dry run writes nothing


def test_host_names_are_summarised_at_any_scale() -> None:
    names = [f"gpu{i:04d}" for i in range(1, 2001)]
    assert compress(["cp1", "cp2", "cp3", "gpu01", "gpu02", "x"]) == ["cp[1-3]", "gpu01", "gpu02", "x"]
    assert summary(["cp1", "cp2"]) == "cp1, cp2"
    assert summary(names) == "2000 hosts: gpu[0001-2000]"
    assert summary([f"n{i}" for i in range(0, 40, 2)]) == (
        "20 hosts: n0, n2, n4, n6, n8, n10, n12, n14 and 12 more")
    assert hosts_label(["a", "b"]) == "2 hosts: a, b" and hosts_label(["a"]) == "a"


def counted(monkeypatch: pytest.MonkeyPatch, module: str, name: str) -> list[object]:
    """Count the calls of ``module.name`` from every deepctl module that imported it."""
    import sys

    real = getattr(sys.modules[module], name)
    calls: list[object] = []

    def wrapper(*args: object, **kwargs: object) -> object:
        calls.append(args)
        return real(*args, **kwargs)

    for loaded in list(sys.modules.values()):
        if getattr(loaded, "__name__", "").startswith("deepctl") and \
                getattr(loaded, name, None) is real:
            monkeypatch.setattr(loaded, name, wrapper)
    return calls


def test_stage_names_are_checked_once_per_command(cli: Invoke, sandbox: Sandbox,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import deepctl.cli.commands.deploy
    import deepctl.engine.session

    spec = sandbox.spec()
    checks = counted(monkeypatch, "deepctl.stages.stage", "check_stage_names")
    deepctl.engine.session._checked_choices.cache_clear()  # pure, so kept per process
    result = cli("deploy", str(spec), "--dry-run", "--only", "verify")
    assert result.exit_code == 0, result.output
    assert len(checks) == 1, checks
    checks.clear()
    added = cli("add-node", str(spec), "--name", "wk9", "--address", "10.0.0.9", "--dry-run",
                "--skip", "preflight")  # checked before asking, and by the engine's Operation
    assert added.exit_code == 0, added.output
    assert len(checks) == 1, checks
    bad = cli("deploy", str(spec), "--dry-run", "--only", "verfy")
    assert bad.exit_code == 2 and "did you mean 'verify'" in bad.stderr
