"""Benchmark 11: live output at scale: Kubespray's download retried on every host.

The notices of one task (its start, then "attempt n of 5 failed, retrying" on each of N hosts
for attempts 1 to 4, then the next task) go through the plain-lines display deepctl uses off
a terminal (`PlainDisplay`, to a counting stream), in this process. Reported: the lines it
printed and the time per notice. Targets: the same number of lines at every N (one RETRY
line per attempt, not one per host), and time per notice within 2x of N = 10's.
Usage: python bench/live_grouping.py [--sizes 10,1000,5000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time

from _common import ROOT, table, write_results

sys.path.insert(0, str(ROOT / "src"))

from deepctl.engine.display import PlainDisplay
from deepctl.engine.progress import Notice, PlaybookProgress

TASK = "Download_file | Download item"


def run_once(hosts: int) -> tuple[float, int]:
    out = io.StringIO()
    display = PlainDisplay(out)
    progress = PlaybookProgress("cluster.yml")
    names = [f"gpu{i:04d}" for i in range(1, hosts + 1)]
    start = time.perf_counter()
    display.playbook_event("kubespray", progress, [Notice("task", TASK)])
    for attempt in range(1, 5):
        for name in names:
            display.playbook_event("kubespray", progress, [Notice(
                "retry", f"{name}: {TASK}: attempt {attempt} of 5 failed (HTTP Error 503), "
                "retrying", name)])
    display.playbook_event("kubespray", progress, [Notice("task", "next")])
    display.close()
    elapsed = time.perf_counter() - start
    return elapsed / (4 * hosts + 2), len(out.getvalue().splitlines())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10,1000,5000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {}
    for size in sizes:
        runs = [run_once(size) for _ in range(args.repeat)]
        results[size] = {"per_notice_us": statistics.median(r[0] for r in runs) * 1e6,
                         "lines": runs[0][1]}
    base = results[sizes[0]]["per_notice_us"]
    print(table([[str(n), f"{r['per_notice_us']:.1f} us", f"{r['per_notice_us'] / base:.2f}x",
                  str(r["lines"]), str(4 * n)] for n, r in results.items()],
                ["hosts", "per notice", "vs first", "lines printed", "lines before (one per host)"]))
    met = (len({r["lines"] for r in results.values()}) == 1
           and results[sizes[-1]]["per_notice_us"] <= 2 * base)
    print(f"\ntarget (same lines at every size, per notice <= 2x): {'met' if met else 'MISSED'}")
    path = write_results("live_grouping", {"results": {str(k): v for k, v in results.items()},
                                           "met": met})
    print(f"results: {path}")


if __name__ == "__main__":
    main()
