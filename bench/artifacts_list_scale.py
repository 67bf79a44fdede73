"""Benchmark 13: `deepctl artifacts list` at 10 to 5,000 hosts.

The real Kubespray tree (`--tree`, else DEEPCTL_TEST_KUBESPRAY, else deepctl's cache)
evaluates its downloads for a generated spec (benchmark 2's: 3 control planes, workers with
and without GPUs, 40 to a rack); deepctl gives Ansible an inventory of one representative
host per class of hosts with the same groups, variables and architecture, and every control
plane and etcd host (src/deepctl/artifacts/kubespray_items.py), and evaluates one host per
class of them. The evaluation is kept between calls ($XDG_CACHE_HOME/deepctl/downloads):
"first call" runs each time with an empty cache (Ansible evaluates), "next calls" with the
cache the first call left (no Ansible). Nothing is contacted.
Target: <= 5 s at 5,000 hosts, next calls (8 s before, when Ansible loaded the whole
inventory); the first call is reported beside it.
Usage: python bench/artifacts_list_scale.py [--sizes 10,1000,5000] [--repeat 3] [--tree DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import DEEPCTL, table, write_results
from spec_scale import spec_text
from validate_scale import default_tree, with_tree

TARGET_S = 5.0


def run_timed(argv: list[str], repeat: int, cache: Path, cold: bool) -> dict[str, Any]:
    """Median wall s and CPU s (the process and every child it reaped: Ansible), peak RSS;
    ``cold``: each run with the evaluation cache ``cache`` emptied first."""
    walls, cpus, rss = [], [], []
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    for _ in range(repeat):
        if cold:
            shutil.rmtree(cache, ignore_errors=True)
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"benchmark command failed: {' '.join(argv)}")
        walls.append(time.perf_counter() - start)
        cpus.append(usage.ru_utime + usage.ru_stime)
        rss.append(usage.ru_maxrss // 1024)
    return {"median_s": statistics.median(walls), "cpu_s": statistics.median(cpus),
            "peak_rss_mib": max(rss)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10,1000,5000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tree", type=Path, default=default_tree())
    args = parser.parse_args()
    if not (args.tree / "roles" / "kubespray_defaults").is_dir():
        raise SystemExit(f"no Kubespray v2.31.0 tree at {args.tree} (--tree)")
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            spec = Path(tmp) / f"scale-{size}.yaml"
            spec.write_text(with_tree(spec_text(size), args.tree))
            argv = [DEEPCTL, "artifacts", "list", str(spec), "--json"]
            cache = Path(tmp) / f"cache-{size}"
            results[size] = {"first": run_timed(argv, args.repeat, cache, cold=True),
                             "next": run_timed(argv, args.repeat, cache, cold=False)}
    base = {k: results[sizes[0]][k]["median_s"] for k in ("first", "next")}
    rows = [[str(size), *(f"{r[k]['median_s']:.2f} s ({r[k]['median_s'] / base[k]:.2f}x), "
                          f"{r[k]['cpu_s']:.2f} s CPU" for k in ("first", "next")),
             f"{max(r['first']['peak_rss_mib'], r['next']['peak_rss_mib'])} MiB"]
            for size, r in results.items()]
    print(table(rows, ["hosts", f"first call (vs {sizes[0]} hosts), CPU (tree)",
                       f"next calls (vs {sizes[0]} hosts), CPU (tree)", "peak RSS"]))
    last = results[sizes[-1]]
    ratio = last["next"]["median_s"] / base["next"]
    met = last["next"]["median_s"] <= TARGET_S
    print(f"\n{sizes[-1]} hosts: next calls {last['next']['median_s']:.2f} s "
          f"({last['next']['cpu_s']:.2f} s CPU), {ratio:.2f}x {sizes[0]} hosts; first call "
          f"{last['first']['median_s']:.2f} s ({last['first']['cpu_s']:.2f} s CPU) "
          f"(target <= {TARGET_S:.0f} s): {'met' if met else 'MISSED'}"
          f"{'' if last['first']['median_s'] <= TARGET_S else ' (first call over it)'}"
          f"; load average {os.getloadavg()[0]:.1f}\n")
    path = write_results("artifacts_list_scale", {
        "results": {str(k): v for k, v in results.items()}, "ratio": ratio,
        "target_s": TARGET_S, "met": met, "load_average": os.getloadavg()[0]})
    print(f"results: {path}")


if __name__ == "__main__":
    main()
