"""Benchmark 9: `deepctl validate` with Kubespray's own inventory checks, 10 to 5,000 hosts.

The real Kubespray tree (`--tree`, else DEEPCTL_TEST_KUBESPRAY, else deepctl's cache) checks
the rendered inventory of a generated spec (3 control planes, workers with and without GPUs,
40 to a rack: the spec of benchmark 2); deepctl runs the checks on one host per class of
hosts with the same groups and variables (src/deepctl/kubevars/host_classes.py). Nothing is contacted.
Targets: 5,000 hosts within 60 s and within 5x the 10-host time.
Usage: python bench/validate_scale.py [--sizes 10,1000,5000] [--repeat 3] [--tree DIR]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from _common import DEEPCTL, median_run, table, write_results
from spec_scale import spec_text

TARGET_S, TARGET_RATIO = 60.0, 5.0


def default_tree() -> Path:
    return Path(os.environ.get("DEEPCTL_TEST_KUBESPRAY")
                or Path.home() / ".cache" / "deepctl" / "kubespray" / "v2.31.0")


def with_tree(text: str, tree: Path) -> str:
    return text.replace("spec:\n", f"spec:\n  kubespray: {{path: {tree}}}\n", 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10,1000,5000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tree", type=Path, default=default_tree())
    args = parser.parse_args()
    if not (args.tree / "roles" / "validate_inventory").is_dir():
        raise SystemExit(f"no Kubespray v2.31.0 tree at {args.tree} (--tree)")
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            spec = Path(tmp) / f"scale-{size}.yaml"
            spec.write_text(with_tree(spec_text(size), args.tree))
            argv = [DEEPCTL, "validate", str(spec), "--state-dir", str(Path(tmp) / f"state-{size}")]
            results[size] = median_run(argv, args.repeat)
    base = results[sizes[0]]["median_s"]
    rows = [[str(size), f"{r['median_s']:.1f} s", f"{r['median_s'] / base:.2f}x",
             f"{r['peak_rss_mib']} MiB"] for size, r in results.items()]
    print(table(rows, ["hosts", "median", f"vs {sizes[0]} hosts", "peak RSS"]))
    last = results[sizes[-1]]["median_s"]
    ratio = last / base
    met = last <= TARGET_S and ratio <= TARGET_RATIO
    print(f"\n{sizes[-1]} hosts: {last:.1f} s, {ratio:.2f}x {sizes[0]} hosts "
          f"(target <= {TARGET_S:.0f} s and <= {TARGET_RATIO:.0f}x): {'met' if met else 'MISSED'}"
          f"; load average {os.getloadavg()[0]:.1f}\n")
    path = write_results("validate_scale", {
        "results": {str(k): v for k, v in results.items()}, "ratio": ratio,
        "target_s": TARGET_S, "target_ratio": TARGET_RATIO, "met": met,
        "load_average": os.getloadavg()[0]})
    print(f"results: {path}")


if __name__ == "__main__":
    main()
