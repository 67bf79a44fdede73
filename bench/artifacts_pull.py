"""Benchmark: `artifacts pull` of 200 files from a loopback upstream, concurrent vs one at a time.

The upstream is a real HTTP server on 127.0.0.1 serving Kubespray's files_repo layout; it
waits ``--delay`` seconds before each answer, standing in for the round trip to the
internet (a download's cost that concurrency hides). Every file is sha256-verified as in a
real pull. Then the same directory is pulled again: everything is verified and skipped.
Targets: concurrent >= 4x faster than one at a time; the second pull < 1 s.

    .venv/bin/python bench/artifacts_pull.py                  # 200 files, 3 runs each
    .venv/bin/python bench/artifacts_pull.py --files 10 --runs 1   # a quick smoke
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench._common import machine, table  # noqa: E402
from tests.mirror_support import LoopbackUpstream, write_upstream_files  # noqa: E402

from deepctl.artifacts.model import ArtifactList, FileArtifact  # noqa: E402
from deepctl.artifacts.pull import PullOptions, pull  # noqa: E402

RESULTS = REPO / "bench" / "results" / "artifacts_pull.json"


def timed_pull(files: list[FileArtifact], dest: Path, url: str, workers: int) -> float:
    listed = ArtifactList(tuple(files), (), ())
    begun = time.perf_counter()
    summary = pull(listed, PullOptions(dest=dest, files_from=url, workers=workers))
    elapsed = time.perf_counter() - begun
    if summary.failures:
        raise SystemExit(f"pull failed: {summary.failures[0].error}")
    return elapsed


def measure(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    files = write_upstream_files(work / "upstream", args.files, size=args.size)
    server = LoopbackUpstream(work / "upstream", delay_s=args.delay)
    serial: list[float] = []
    concurrent: list[float] = []
    second: list[float] = []
    try:
        for run in range(args.runs):  # interleaved: one at a time, concurrent, second pull
            serial.append(timed_pull(files, work / f"serial-{run}", server.url, 1))
            concurrent.append(timed_pull(files, work / f"conc-{run}", server.url, args.workers))
            before = len(server.requests)
            second.append(timed_pull(files, work / f"conc-{run}", server.url, args.workers))
            if len(server.requests) != before:
                raise SystemExit("the second pull downloaded something")
    finally:
        server.close()
    one, many, again = (statistics.median(x) for x in (serial, concurrent, second))
    return {
        "files": args.files, "size_bytes": args.size, "delay_s": args.delay,
        "workers": args.workers, "runs": args.runs,
        "one_at_a_time_s": serial, "concurrent_s": concurrent, "second_pull_s": second,
        "median": {"one_at_a_time_s": one, "concurrent_s": many, "second_pull_s": again},
        "speedup": one / many,
        "targets": {"speedup_4x": one / many >= 4, "second_under_1s": again < 1.0},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--size", type=int, default=64 * 1024, help="bytes per file")
    parser.add_argument("--delay", type=float, default=0.02,
                        help="seconds the upstream waits per request (internet round trip)")
    parser.add_argument("--workers", type=int, default=8, help="as `artifacts pull --workers`")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="deepctl-bench-pull-") as tmp:
        result = measure(args, Path(tmp))
    median = result["median"]
    rows = [
        ["one at a time (--workers 1)", f"{median['one_at_a_time_s']:.3f} s"],
        [f"concurrent (--workers {args.workers})", f"{median['concurrent_s']:.3f} s"],
        ["second pull, same directory", f"{median['second_pull_s']:.3f} s"],
    ]
    print(f"artifacts pull of {args.files} files x {args.size} bytes, upstream delay "
          f"{args.delay * 1000:.0f} ms, median of {args.runs}")
    print(table(rows, ["pull", "time"]))
    print(f"speedup {result['speedup']:.1f}x (target >= 4x): "
          f"{'met' if result['targets']['speedup_4x'] else 'MISSED'}")
    print(f"second pull {median['second_pull_s']:.3f} s (target < 1 s): "
          f"{'met' if result['targets']['second_under_1s'] else 'MISSED'}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"benchmark": "artifacts_pull", "machine": machine(),
                                       **result}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
