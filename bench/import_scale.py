"""Benchmark 9: `deepctl import` of deepctl's own rendered inventory, 10 to 5,000 hosts.

For each size, a spec (3 control planes, the rest GPU workers with a rack label; addresses of
documentation ranges, as data: nothing is contacted) is rendered into a Kubespray inventory
with deepctl's own renderer, then:
- `deepctl import INVENTORY -o SPEC` runs as a subprocess (real ansible-inventory, the
  writer, the spec's validation): median of N runs. Target: <= 10 s at 5,000 hosts.
- the writer alone (importer/writer.py:spec_text), in process: median of N. Target: linear,
  k <= 1.1 where time ~ hosts^k between the two largest sizes.
- import(render(spec)) == spec is checked once per size (what an inventory carries: hosts,
  ssh, kubernetes, kubesprayVars; the GPU addon); the benchmark fails if it is not.
Usage: python bench/import_scale.py [--sizes 10,1000,5000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import DEEPCTL, table, write_results

from deepctl.clusterspec.loader import load_spec_text
from deepctl.importer.convert import convert
from deepctl.importer.listing import list_inventory
from deepctl.importer.writer import spec_text
from deepctl.kubevars.render import render_inventory, write_inventory

IMPORT_TARGET_S, SLOPE_TARGET = 10.0, 1.1
CARRIED = ("kubernetes", "ssh", "hosts", "kubespray_vars")


def original_text(hosts: int) -> str:
    lines = ["apiVersion: deepctl/v1alpha1", "kind: Cluster", "metadata: {name: scale}", "spec:",
             "  kubernetes: {podSubnet: 10.64.0.0/10, serviceSubnet: 10.32.0.0/16, "
             "nodePrefix: 24, helm: true}",
             "  ssh: {user: ops, identityFile: /keys/ops}",
             "  kubesprayVars: {download_run_once: true, kubelet_max_pods: 200}",
             "  addons: {gpu: {enabled: true}, monitoring: {enabled: false}}",
             "  hosts:"]
    for i in range(hosts):
        address = f"172.{16 + i // 65536}.{(i // 256) % 256}.{i % 256}"
        if i < 3:
            lines.append(f"    - {{name: cp{i + 1}, address: {address}, roles: [control-plane, etcd]}}")
        else:
            lines.append(f"    - {{name: gpu{i:04d}, address: {address}, roles: [worker], gpu: true, "
                         f"labels: {{rack: r{i // 40}}}}}")
    return "\n".join(lines) + "\n"


def run_timed(argv: list[str]) -> tuple[float, float, int, int]:
    """(wall s, CPU s of the process and every child it reaped, peak RSS MiB, exit code)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    return (time.perf_counter() - start, usage.ru_utime + usage.ru_stime,
            usage.ru_maxrss // 1024, os.waitstatus_to_exitcode(status))


def carried(cluster: Any) -> dict[str, Any]:
    data = cluster.spec.model_dump(mode="json")
    return {**{k: data[k] for k in CARRIED}, "gpu": cluster.spec.addons.gpu.enabled}


def measure(size: int, repeat: int, tmp: Path) -> dict[str, Any]:
    spec = tmp / f"scale-{size}.yaml"
    spec.write_text(original_text(size))
    original = load_spec_text(spec.read_text(), spec).cluster
    inventory = tmp / f"inventory-{size}"
    write_inventory(inventory, render_inventory(original, spec.name))
    result = convert(list_inventory(inventory), name="scale")
    if result.problems:
        raise SystemExit(f"{size} hosts: import refused: {result.problems[:3]}")
    text = spec_text(result, str(inventory))
    back = load_spec_text(text, tmp / f"back-{size}.yaml").cluster
    if carried(back) != carried(original):
        raise SystemExit(f"{size} hosts: import(render(spec)) != spec")
    writer = []
    for _ in range(repeat):
        start = time.perf_counter()
        spec_text(result, str(inventory))
        writer.append(time.perf_counter() - start)
    runs, cpu, rss = [], [], []
    for attempt in range(repeat):
        out = tmp / f"imported-{size}-{attempt}.yaml"
        elapsed, seconds, peak, code = run_timed([DEEPCTL, "import", str(inventory), "-o",
                                                  str(out), "--name", "scale"])
        if code != 0:
            raise SystemExit(f"deepctl import of {size} hosts failed (exit {code})")
        runs.append(elapsed)
        cpu.append(seconds)
        rss.append(peak)
    return {"import_s": statistics.median(runs), "import_cpu_s": statistics.median(cpu),
            "writer_s": statistics.median(writer),
            "peak_rss_mib": max(rss), "round_trip": True, "spec_bytes": len(text)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10,1000,5000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        results = {size: measure(size, args.repeat, Path(tmp)) for size in sizes}
    base = results[sizes[0]]
    rows = [[str(size), f"{r['import_s']:.2f} s", f"{r['import_s'] / base['import_s']:.2f}x",
             f"{r['import_cpu_s']:.2f} s",
             f"{r['writer_s'] * 1000:.1f} ms", f"{r['writer_s'] / base['writer_s']:.1f}x",
             f"{r['peak_rss_mib']} MiB", "yes" if r["round_trip"] else "NO"]
            for size, r in results.items()]
    print(table(rows, ["hosts", "deepctl import", f"vs {sizes[0]}", "its CPU", "writer", f"vs {sizes[0]}",
                       "peak RSS", "import(render(spec)) == spec"]))
    small, large = sizes[-2] if len(sizes) > 1 else sizes[0], sizes[-1]
    slope = (math.log(results[large]["writer_s"] / results[small]["writer_s"])
             / math.log(large / small)) if large != small else 1.0
    last = results[large]["import_s"]
    print(f"\nimport of {large} hosts: {last:.2f} s (target <= {IMPORT_TARGET_S:.0f} s): "
          f"{'met' if last <= IMPORT_TARGET_S else 'MISSED'}")
    print(f"writer: time ~ hosts^{slope:.2f} from {small} to {large} hosts (target k <= "
          f"{SLOPE_TARGET}): {'met' if slope <= SLOPE_TARGET else 'MISSED'}\n")
    path = write_results("import_scale", {
        "results": {str(k): v for k, v in results.items()}, "writer_slope": slope,
        "targets": {"import_s": IMPORT_TARGET_S, "writer_slope": SLOPE_TARGET}})
    print(f"results: {path}")


if __name__ == "__main__":
    main()
