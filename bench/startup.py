"""Benchmark 1: start-up cost of deepctl against a baseline of importing typer and rich.

Target: `deepctl --help` within 1.2x of `python -c "import typer, rich"`.
Usage: python bench/startup.py [--repeat N]

deepctl's modules are byte-compiled first, as `pip install` does for typer and rich (and for
deepctl when it is not an editable install): with PYTHONDONTWRITEBYTECODE set, an editable
checkout would otherwise compile every module it imports on every start, which is not what a
user's installation does.
"""

from __future__ import annotations

import argparse
import compileall
import statistics

from _common import DEEPCTL, PYTHON, ROOT, median_run, run_measured, table, write_results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    compileall.compile_dir(ROOT / "src" / "deepctl", quiet=1)
    example = str(ROOT / "examples" / "gpu-cluster.yaml")
    cases = {
        "baseline: import typer, rich": [PYTHON, "-c", "import typer, rich"],
        "deepctl --help": [DEEPCTL, "--help"],
        "deepctl validate --no-kubespray": [DEEPCTL, "validate", example, "--no-kubespray"],
        "deepctl validate (with Kubespray's checks when a tree is found)": [
            DEEPCTL, "validate", example,
        ],
    }
    results = {name: median_run(argv, args.repeat) for name, argv in cases.items()}
    # the ratio that is judged: baseline and --help run in turn, so that a change of load
    # during the benchmark weighs on both alike
    paired: dict[str, list[float]] = {"base": [], "help": []}
    for _ in range(args.repeat):
        for key, name in (("base", "baseline: import typer, rich"), ("help", "deepctl --help")):
            paired[key].append(run_measured(cases[name])[0])
    base = statistics.median(paired["base"])
    results["baseline: import typer, rich"]["median_s"] = base
    results["deepctl --help"]["median_s"] = statistics.median(paired["help"])
    rows = [
        [name, f"{r['median_s'] * 1000:.0f} ms", f"{r['median_s'] / base:.2f}x",
         f"{r['peak_rss_mib']} MiB"]
        for name, r in results.items()
    ]
    print(table(rows, ["case", "median", "vs baseline", "peak RSS"]))
    ratio = results["deepctl --help"]["median_s"] / base
    verdict = "met" if ratio <= 1.2 else "MISSED"
    print(f"\n--help / baseline = {ratio:.2f} (target <= 1.2: {verdict})")
    path = write_results("startup", {"repeat": args.repeat, "results": results,
                                     "help_ratio": ratio, "target": 1.2})
    print(f"results: {path}")


if __name__ == "__main__":
    main()
