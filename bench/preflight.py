"""Benchmark: `deepctl preflight` on 1 and on 30 loopback test hosts (tests/harness HostFarm).

Each host is a real sshd in its own mount/UTS namespace; preflight connects, verifies the
host key, runs its facts script and judges the facts, exactly as on real servers. Needs
root (as the integration tests do). Prints a table and writes bench/results/preflight.json.

    .venv/bin/python bench/preflight.py              # 1 and 30 hosts, 3 runs each
    .venv/bin/python bench/preflight.py --hosts 1,3 --runs 1   # a quick smoke
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.harness import HostFarm, HostProfile, TestHost, missing_requirements  # noqa: E402

from deepctl.preflight import run_preflight  # noqa: E402
from deepctl.workspace import open_workspace  # noqa: E402

RESULTS = REPO / "bench" / "results" / "preflight.json"


def write_spec(directory: Path, farm: HostFarm, hosts: list[TestHost]) -> Path:
    entries = [
        {"name": h.name, "address": h.address, "ssh": {"port": h.port},
         "roles": ["control-plane", "etcd", "worker"] if i == 0 else ["worker"],
         "gpu": h.profile.gpu != "none"}
        for i, h in enumerate(hosts)
    ]
    spec = {"apiVersion": "deepctl/v1alpha1", "kind": "Cluster", "metadata": {"name": "bench"},
            "spec": {"ssh": {"user": "root", "identityFile": str(farm.client_key)},
                     "hosts": entries}}
    path = directory / f"cluster-{len(hosts)}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def time_preflight(spec: Path, state: Path, runs: int, concurrency: int) -> dict[str, Any]:
    seconds, cpu = [], []
    status = ""
    for _ in range(runs):
        cpu_before = _own_cpu()
        begun = time.perf_counter()
        report = run_preflight(open_workspace(spec, state), concurrency=concurrency)
        seconds.append(time.perf_counter() - begun)
        cpu.append(_own_cpu() - cpu_before)
        status = report.status
        if any(f.check in ("ssh.connect", "ssh.host-key", "ssh.facts") and f.status == "error"
               for f in report.findings):
            raise SystemExit(f"preflight could not reach every host: {report.to_json()}")
    return {"runs": runs, "median_s": statistics.median(seconds), "min_s": min(seconds),
            "max_s": max(seconds), "all_s": seconds, "status": status,
            "deepctl_cpu_s": statistics.median(cpu)}


def _own_cpu() -> float:
    """CPU seconds of this process (deepctl's side only; the hosts' sshd work is not in it)."""
    times = os.times()
    return times.user + times.system


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hosts", default="1,30", help="comma-separated host counts (1,30)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per size (median kept)")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    reason = missing_requirements()
    if reason is not None:
        print(f"cannot run loopback test hosts here: {reason}", file=sys.stderr)
        return 2
    sizes = sorted({int(n) for n in args.hosts.split(",")})
    gpu_kinds = ("none", "h100x8", "a100-mig")
    results: list[dict[str, Any]] = []
    with HostFarm(pool="function") as farm, tempfile.TemporaryDirectory() as tmp:
        hosts = farm.add_many(HostProfile(name=f"node{i:02d}", gpu=gpu_kinds[i % 3])
                              for i in range(max(sizes)))
        for size in sizes:
            work = Path(tmp) / str(size)
            (work / "state").mkdir(parents=True)
            (work / "state" / "known_hosts").write_text(farm.known_hosts(hosts[:size]))
            spec = write_spec(work, farm, hosts[:size])
            results.append({"hosts": size, **time_preflight(spec, work / "state", args.runs,
                                                             args.concurrency)})
    base = results[0]["median_s"]
    print(f"{'hosts':>5}  {'median s':>9}  {'min s':>7}  {'max s':>7}  {'x smallest':>10}  "
          f"{'deepctl cpu s':>13}")
    for row in results:
        row["ratio_to_smallest"] = row["median_s"] / base
        print(f"{row['hosts']:>5}  {row['median_s']:>9.3f}  {row['min_s']:>7.3f}  "
              f"{row['max_s']:>7.3f}  {row['ratio_to_smallest']:>10.2f}  "
              f"{row['deepctl_cpu_s']:>13.2f}")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; every test host "
          "runs on these CPUs, so host-side work adds up with the host count here")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({
        "benchmark": "preflight", "concurrency": args.concurrency,
        "machine": {"cpus": os.cpu_count(), "load_average_1m": os.getloadavg()[0],
                    "python": platform.python_version(),
                    "platform": platform.platform()},
        "results": results,
    }, indent=2) + "\n", encoding="utf-8")
    print(f"written {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
