"""`deepctl runs SPEC | cat` at 80 columns: run ids whole, so `deepctl logs` takes them."""

from __future__ import annotations

import json

from tests.cli.conftest import Run, Sandbox

RUN_IDS = [f"2026112{d}T0{d}0000Z-deploy-{d}a{d}b{d}c{d}d" for d in range(1, 5)]


def test_runs_in_a_pipe_at_80_columns_prints_whole_run_ids(run_deepctl: Run,
                                                           sandbox: Sandbox) -> None:
    spec = sandbox.spec()
    runs = sandbox.work / ".deepctl" / "lab" / "runs"
    for run_id in RUN_IDS:
        (runs / run_id).mkdir(parents=True, mode=0o700)
        (runs / run_id).joinpath("state.json").write_text(json.dumps({
            "version": 1, "id": run_id, "command": "deploy", "result": "failed",
            "started_at": "2026-11-21T01:00:00Z", "finished_at": "2026-11-21T01:20:34Z",
            "duration_s": 1234.5, "failed_stage": "kubespray-and-a-long-stage-name"}))
    for path in (runs, runs.parent, runs.parent.parent):
        path.chmod(0o700)
    result = run_deepctl("runs", str(spec), env=sandbox.env(COLUMNS="80"))
    assert result.returncode == 0, result.stderr
    assert "…" not in result.stdout
    for run_id in RUN_IDS:
        assert run_id in result.stdout
        logs = run_deepctl("logs", str(spec), run_id, env=sandbox.env(COLUMNS="80"))
        assert logs.returncode in (0, 1) and "no run matching" not in logs.stderr
