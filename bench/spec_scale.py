"""Benchmark 2: validate + render (`deploy --dry-run`) for specs of 10 to 5,000 hosts.

Target: cost grows linearly; 5,000 hosts under 10x the 10-host time. Peak memory reported.
The generated specs hold documentation-range addresses as data; nothing is contacted.
Usage: python bench/spec_scale.py [--sizes 10,100,1000,5000] [--repeat N]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _common import DEEPCTL, median_run, table, write_results


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
    print(f"\n{sizes[-1]} hosts / {sizes[0]} hosts = {ratio:.2f}x (target < 10x)")
    path = write_results("spec_scale", {"results": {str(k): v for k, v in results.items()},
                                        "ratio": ratio, "target": 10})
    print(f"results: {path}")


if __name__ == "__main__":
    main()
