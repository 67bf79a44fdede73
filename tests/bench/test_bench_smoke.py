"""Smoke-run every benchmark script on a tiny size so they cannot rot.

Benchmarks never pass or fail on speed here; they only have to run and report.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"


def run_bench(*argv: str) -> str:
    result = subprocess.run(
        [sys.executable, str(BENCH / argv[0]), *argv[1:]],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_startup_benchmark_reports_the_ratio() -> None:
    out = run_bench("startup.py", "--repeat", "1")
    assert "deepctl --help" in out and "--help / baseline" in out


def test_spec_scale_benchmark_reports_each_size() -> None:
    out = run_bench("spec_scale.py", "--sizes", "10,20", "--repeat", "1")
    assert "20 hosts / 10 hosts" in out


@pytest.mark.skipif(os.geteuid() != 0, reason="preflight benchmark starts sshd test hosts (root)")
def test_preflight_benchmark_runs_on_two_hosts() -> None:
    out = run_bench("preflight.py", "--hosts", "1,2", "--runs", "1")
    assert "2" in out
