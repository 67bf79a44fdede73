"""Helpers shared by the benchmark scripts: timing subprocesses, peak RSS, result files."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
PYTHON = sys.executable
DEEPCTL = str(Path(sys.executable).parent / "deepctl")


def run_measured(argv: Sequence[str], cwd: Path | None = None) -> tuple[float, int, int]:
    """Run ``argv``; return (wall seconds, peak RSS in MiB of that child, exit code)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.stderr is not None:
        proc.stderr.close()
    return elapsed, usage.ru_maxrss // 1024, proc.returncode


def median_run(argv: Sequence[str], repeat: int, cwd: Path | None = None) -> dict[str, Any]:
    times, rss, rc = [], [], 0
    for _ in range(repeat):
        elapsed, peak, rc = run_measured(argv, cwd)
        if rc != 0:
            raise SystemExit(f"benchmark command failed (exit {rc}): {' '.join(argv)}")
        times.append(elapsed)
        rss.append(peak)
    return {"median_s": statistics.median(times), "min_s": min(times), "peak_rss_mib": max(rss)}


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "system": platform.platform(),
    }


def write_results(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"benchmark": name, "machine": machine(), **data}, indent=2) + "\n")
    return path


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)
