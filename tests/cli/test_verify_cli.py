"""``deepctl verify`` as a user types it: --render writes the level's manifests (private),
usage errors exit 2 with a hint that runs as printed."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import yaml

from tests.cli.conftest import Invoke, Sandbox

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = (ROOT / "examples" / "gpu-cluster.yaml").read_text()


def facts(sandbox: Sandbox, host: str, gpus: int) -> None:
    """What preflight would have saved for ``host``: its GPUs (saved.gpu_count reads them)."""
    path = sandbox.work / ".deepctl" / "gpu-cluster" / "facts" / f"{host}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"gpus": [{"index": i} for i in range(gpus)]}))


def test_render_full_writes_every_level_file_privately(cli: Invoke, sandbox: Sandbox) -> None:
    spec = sandbox.spec(EXAMPLE)
    out = sandbox.work / "manifests"
    result = cli("verify", str(spec), "--level", "full", "--render", str(out), "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["level"] == "full" and doc["files"][:2] == ["00-namespace.yaml", "10-gpu-smoke.yaml"]
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    for name in doc["files"]:
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o600
        assert list(yaml.safe_load_all((out / name).read_text()))
    # no preflight facts: the smoke Jobs only, and a note that says what to run
    assert doc["notes"] and f"run `deepctl preflight {spec}` first" in doc["notes"][0]


def test_render_standard_with_preflight_counts(cli: Invoke, sandbox: Sandbox) -> None:
    spec = sandbox.spec(EXAMPLE)
    for host in ("gpu1", "gpu2", "gpu3", "gpu4"):
        facts(sandbox, host, 8)
    out = sandbox.work / "m"
    result = cli("verify", str(spec), "--level", "standard", "--render", str(out), "--nodes", "gpu2")
    assert result.exit_code == 0, result.output
    assert "20-dcgm-diag.yaml" in result.stdout
    dcgm = list(yaml.safe_load_all((out / "20-dcgm-diag.yaml").read_text()))
    assert [j["metadata"]["labels"]["deepctl.io/node"] for j in dcgm] == ["gpu2"]


def test_unknown_level_and_host_are_usage_errors(cli: Invoke, sandbox: Sandbox) -> None:
    spec = sandbox.spec(EXAMPLE)
    bad_level = cli("verify", str(spec), "--level", "deep", "--render", str(sandbox.work / "x"))
    assert bad_level.exit_code == 2
    assert "unknown level 'deep'" in bad_level.output and "quick, standard, full" in bad_level.output
    bad_node = cli("verify", str(spec), "--nodes", "gpu9", "--render", str(sandbox.work / "x"))
    assert bad_node.exit_code == 2 and "'gpu9' is not a host" in bad_node.output


def test_drain_at_level_quick_is_a_usage_error(cli: Invoke, sandbox: Sandbox) -> None:
    spec = sandbox.spec(EXAMPLE)
    result = cli("verify", str(spec), "--drain", "--render", str(sandbox.work / "x"))
    assert result.exit_code == 2 and "--drain is for the diagnostics" in result.output
    assert f"deepctl verify {spec} --level standard --drain" in result.output


def test_deploy_ends_with_verify_at_the_spec_level(cli: Invoke, sandbox: Sandbox) -> None:
    spec = sandbox.spec(EXAMPLE.replace("  addons:\n", "  verify: {level: standard}\n  addons:\n", 1))
    plan = json.loads(cli("deploy", str(spec), "--dry-run", "--json").stdout)
    last = plan["stages"][-1]
    assert last["name"] == "verify"
    assert "level standard: DCGM diagnostics level 2 and single-node NCCL all-reduce" in \
        last["description"]
    quick = json.loads(cli("deploy", str(sandbox.spec(EXAMPLE)), "--dry-run", "--json").stdout)
    assert "CUDA smoke Job" in quick["stages"][-1]["description"]
    assert "DCGM" not in quick["stages"][-1]["description"]
