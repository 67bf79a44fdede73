"""`runs --prune` keeps what a later command resumes from and says why; `--dry-run` deletes
nothing; `logs` with an unknown run id is exit 2 whether or not other runs exist."""

from __future__ import annotations

import json
from pathlib import Path

from deepctl.state.retention import RunInfo, kept_runs, runs_to_prune
from tests.cli.conftest import Invoke, Sandbox


def add_runs(sandbox: Sandbox, runs: list[tuple[str, str]]) -> list[str]:
    """Run directories for (command, result), oldest first; their ids, oldest first."""
    root = sandbox.work / ".deepctl" / "lab"
    ids = []
    for i, (command, result) in enumerate(runs, start=1):
        run_id = f"202611{i:02d}T010000Z-{command}-{i:04x}"
        (root / "runs" / run_id).mkdir(parents=True)
        (root / "runs" / run_id / "state.json").write_text(json.dumps({
            "version": 1, "id": run_id, "command": command, "result": result,
            "started_at": f"2026-11-{i:02d}T01:00:00Z", "duration_s": 1.0}))
        (root / "runs" / run_id / "deepctl.log").write_text(f"log of {run_id}\n")
        ids.append(run_id)
    for path in [root.parent, root, root / "runs", *(root / "runs").iterdir()]:
        path.chmod(0o700)
    return ids


def test_prune_keeps_the_unfinished_run_a_later_command_resumes_from() -> None:
    runs = [RunInfo("r6", "add-node", "succeeded"), RunInfo("r5", "upgrade", "canceled"),
            RunInfo("r4", "deploy", "failed"), RunInfo("r3", "deploy", "failed"),
            RunInfo("r2", "upgrade", "failed"), RunInfo("r1", "deploy", "succeeded")]
    why = kept_runs(runs, 1)
    assert why == {
        "r6": "one of the newest 1",
        "r5": "the last upgrade, canceled: the next `deepctl upgrade` resumes from it",
        "r4": "the last deploy, failed: the next `deepctl deploy` resumes from it",
        "r1": "the last successful deploy"}
    assert runs_to_prune(runs, 1) == ["r3", "r2"]  # superseded by a later run of their command
    # a successful reset forgets every stage: nothing before it resumes
    after_reset = [RunInfo("r9", "reset", "succeeded"), *runs]
    assert "r4" not in kept_runs(after_reset, 1) and "r5" not in kept_runs(after_reset, 1)
    failed_reset = [RunInfo("r9", "reset", "failed"), *runs]
    assert "r9" in kept_runs(failed_reset, 0) and "r4" in kept_runs(failed_reset, 0)


def test_runs_prune_dry_run_lists_and_deletes_nothing_then_prune_keeps_the_failed_deploy(
        cli: Invoke, sandbox: Sandbox) -> None:
    spec = sandbox.spec()
    ids = add_runs(sandbox, [("deploy", "succeeded"), ("deploy", "failed"),
                             ("add-node", "succeeded"), ("add-node", "succeeded")])
    runs_dir = sandbox.work / ".deepctl" / "lab" / "runs"
    dry = cli("runs", str(spec), "--prune", "--keep", "1", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dry.stdout.splitlines()[:1] == [f"would remove {runs_dir / ids[2]}"]
    assert (f"kept {ids[1]}: the last deploy, failed: the next `deepctl deploy` resumes from it"
            in dry.stdout)
    assert f"kept {ids[0]}: the last successful deploy" in dry.stdout
    assert "1 run(s) would be removed (dry run: nothing deleted); 3 kept" in dry.stdout
    assert sorted(p.name for p in runs_dir.iterdir()) == ids  # nothing deleted
    assert not (runs_dir.parent / "lock").exists()

    as_json = json.loads(cli("runs", str(spec), "--prune", "--keep", "1", "--dry-run",
                             "--json").stdout)
    assert (as_json["dryRun"], as_json["removed"]) == (True, [ids[2]])
    assert {k["id"] for k in as_json["keptRuns"]} == {ids[0], ids[1], ids[3]}

    pruned = cli("runs", str(spec), "--prune", "--keep", "1")
    assert pruned.exit_code == 0, pruned.output
    assert f"removed {runs_dir / ids[2]}" in pruned.stdout
    assert sorted(p.name for p in runs_dir.iterdir()) == [ids[0], ids[1], ids[3]]
    assert cli("logs", str(spec), ids[1]).stdout == f"log of {ids[1]}\n"  # still there


def test_dry_run_and_keep_go_with_prune(cli: Invoke, sandbox: Sandbox) -> None:
    result = cli("runs", str(sandbox.spec()), "--dry-run")
    assert result.exit_code == 2 and "--dry-run goes with --prune" in result.stderr


def test_logs_of_an_unknown_run_is_exit_2_with_or_without_other_runs(
        cli: Invoke, sandbox: Sandbox) -> None:
    spec = sandbox.spec()
    none_yet = cli("logs", str(spec), "20261127T000000Z-deploy-0000")
    assert none_yet.exit_code == 2, none_yet.output
    assert "no run matching '20261127T000000Z-deploy-0000'" in none_yet.stderr
    assert f"there are no runs yet; a run starts with `deepctl deploy {spec}`" in none_yet.stderr
    as_json = json.loads(cli("logs", str(spec), "nope", "--json").stdout)["error"]
    assert (as_json["kind"], as_json["code"]) == ("usage", 2)
    newest = cli("logs", str(spec))  # no RUN, nothing recorded: nothing to show yet
    assert newest.exit_code == 1 and "no runs yet" in newest.stderr
    add_runs(sandbox, [("deploy", "failed")])
    other = cli("logs", str(spec), "20261127T000000Z-deploy-0000")
    assert other.exit_code == 2, other.output
    assert f"list them with `deepctl runs {spec}`" in other.stderr


def test_the_runs_doc_and_exit_codes_doc_agree_on_logs() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs"
    runs_md = " ".join((docs / "runs.md").read_text().split())
    codes = " ".join((docs / "exit-codes.md").read_text().split())
    said = "RUN names no run (or several), whether or not other runs exist"
    assert said in codes and "a RUN that names no run, or several, is exit 2" in runs_md
    assert "whether or not other runs exist; without RUN and no run yet, exit 1" in runs_md
    assert "without a RUN and no run recorded" in codes
