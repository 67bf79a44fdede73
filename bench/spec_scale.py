"""Benchmark 2: validate + render (`deploy --dry-run`) for specs of 10 to 5,000 hosts.

Target: cost grows linearly; 5,000 hosts under 10x the 10-host time. Peak memory reported.
Also: each hostile spec of tests/corpus/specs (alias bomb, node flood, deep nesting...) is
refused (exit 2) within 2 s of CPU and 200 MB (the corpus test only guards against runaways).
The generated specs hold documentation-range addresses as data; nothing is contacted.
Usage: python bench/spec_scale.py [--sizes 10,100,1000,5000] [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from _common import DEEPCTL, ROOT, median_run, table, write_results

HOSTILE = sorted((ROOT / "tests" / "corpus" / "specs").glob("hostile-*.yaml"))
CPU_TARGET_S, RSS_TARGET_MIB = 2.0, 200


def hostile_cost(spec: Path) -> tuple[int, float, int]:
    """(exit code, CPU seconds, peak RSS MiB) of `deepctl validate` refusing ``spec``."""
    proc = subprocess.Popen([DEEPCTL, "validate", str(spec), "--no-kubespray"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    return (os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime,
            usage.ru_maxrss // 1024)


def hostile_report() -> dict[str, Any]:
    rows, out = [], {}
    for spec in HOSTILE:
        code, cpu, rss = hostile_cost(spec)
        met = code == 2 and cpu < CPU_TARGET_S and rss < RSS_TARGET_MIB
        out[spec.name] = {"exit": code, "cpu_s": round(cpu, 3), "peak_rss_mib": rss, "met": met}
        rows.append([spec.name, str(code), f"{cpu:.2f} s", f"{rss} MiB", "met" if met else "MISSED"])
    print(table(rows, ["hostile spec", "exit", "CPU", "peak RSS",
                       f"target (exit 2, < {CPU_TARGET_S:.0f} s, < {RSS_TARGET_MIB} MiB)"]))
    return out


def spec_text(hosts: int) -> str:
    lines = [
        "apiVersion: deepctl/v1alpha1",
        "kind: Cluster",
        "metadata: {name: scale}",
        "spec:",
        "  kubernetes: {podSubnet: 10.64.0.0/10, serviceSubnet: 10.32.0.0/16, nodePrefix: 24}",
        "  hosts:",
    ]
    for i in range(hosts):
        address = f"172.{16 + i // 65536}.{(i // 256) % 256}.{i % 256}"
        roles = "[control-plane, etcd]" if i < 3 else "[worker]"
        gpu = "true" if i >= 3 and i % 2 == 0 else "false"
        lines.append(f"    - {{name: node{i}, address: {address}, roles: {roles}, gpu: {gpu},")
        lines.append(f"       labels: {{rack: r{i // 40}}}}}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10,100,1000,5000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            spec = Path(tmp) / f"scale-{size}.yaml"
            spec.write_text(spec_text(size))
            argv = [DEEPCTL, "deploy", str(spec), "--dry-run", "--json"]
            results[size] = {**median_run(argv, args.repeat), "spec_bytes": spec.stat().st_size}
    base = results[sizes[0]]["median_s"]
    rows = [
        [str(size), f"{r['median_s'] * 1000:.0f} ms", f"{r['median_s'] / base:.2f}x",
         f"{r['peak_rss_mib']} MiB", f"{r['spec_bytes'] // 1024} KiB"]
        for size, r in results.items()
    ]
    print(table(rows, ["hosts", "median", f"vs {sizes[0]} hosts", "peak RSS", "spec size"]))
    ratio = results[sizes[-1]]["median_s"] / base
    print(f"\n{sizes[-1]} hosts / {sizes[0]} hosts = {ratio:.2f}x (target < 10x)\n")
    hostile = hostile_report()
    path = write_results("spec_scale", {"results": {str(k): v for k, v in results.items()},
                                        "ratio": ratio, "target": 10, "hostile": hostile})
    print(f"results: {path}")


if __name__ == "__main__":
    main()
