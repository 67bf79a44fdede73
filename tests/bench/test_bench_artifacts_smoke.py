"""Smoke-run bench/artifacts_pull.py on a tiny size so it cannot rot (never judged on speed)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.bench.test_bench_smoke import run_bench


def test_artifacts_pull_benchmark_reports_speedup_and_second_pull(tmp_path: Path) -> None:
    out = run_bench("artifacts_pull.py", "--files", "6", "--runs", "1", "--delay", "0.005",
                    "--output", str(tmp_path / "a.json"))
    assert "speedup" in out and "(target >= 4x)" in out and "second pull" in out
    result = json.loads((tmp_path / "a.json").read_text())
    assert result["files"] == 6 and len(result["second_pull_s"]) == 1
