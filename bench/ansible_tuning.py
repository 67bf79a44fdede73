"""Benchmark 5: Kubespray's stock Ansible settings vs deepctl's, vs deepctl with Mitogen.

One synthetic playbook (facts gathered, then 16 tiny tasks) on 30 loopback test hosts
(tests/harness: a real sshd per host), run by plain ``ansible-playbook`` under:

  stock    Kubespray v2.31.0's own ansible.cfg (read from the cached Kubespray tree, else the
           same settings embedded below): pipelining, ControlPersist 30m, smart gathering,
           forks left at 5, jsonfile fact cache in the shared /tmp, host key checking off;
  deepctl  the ansible.cfg deepctl generates for a deploy (Kubespray's file + deepctl's
           settings: host key checking ON against the cluster's known_hosts, a per-cluster
           fact cache, forks sized to the host count); target: not slower than stock
           (median within 5%, the noise of one case's runs here being +-10%);
  mitogen  the same with ``spec.ansible.strategy: mitogen`` (``mitogen_linear``); target: at
           least 2x faster than stock.

Every run starts cold: fact caches emptied, SSH masters closed. Runs are interleaved
(stock, deepctl, mitogen, stock, ...) so load from elsewhere hits all three alike.
Needs root (the test hosts). Writes bench/results/ansible_tuning.json.

    .venv/bin/python bench/ansible_tuning.py                      # 30 hosts x 16 tasks, 3 runs
    .venv/bin/python bench/ansible_tuning.py --hosts 3 --tasks 4 --runs 1   # a quick smoke
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
from pathlib import Path
from typing import Any

from _common import table
from _synthetic import (
    KUBESPRAY_TREE,
    HostFarm,
    close_masters,
    cluster_for,
    deepctl_cfg,
    load_average,
    require_hosts,
    reset_dir,
    save,
    start_hosts,
    stock_cfg,
    time_ansible_playbook,
    write_workdir,
)

NOISE = 0.05
HOST_PREFIX = "dcbench"  # stock caches facts as /tmp/<host>: names we can find and remove


def facts_seconds(log: Path) -> float:
    """The fact-gathering task's time, from Kubespray's ``profile_tasks`` summary (0 if none).

    It is also where each host is first contacted (and, with Mitogen, bootstrapped)."""
    for line in log.read_text(encoding="utf-8").splitlines():
        match = re.match(r"Gathering Facts -+ ([0-9.]+)s$", line.strip())
        if match:
            return float(match.group(1))
    return 0.0


class Case:
    """One way of running the playbook: an ansible.cfg and what to reset before each run."""

    def __init__(self, name: str, cfg: Path, fact_files: list[Path],
                 control_dir: Path, env: dict[str, str] | None = None) -> None:
        self.name, self.cfg, self.fact_files = name, cfg, fact_files
        self.control_dir, self.env = control_dir, env or {}
        self.seconds: list[float] = []
        self.cpu: list[float] = []
        self.facts: list[float] = []

    def run_once(self, work: Path) -> None:
        for path in self.fact_files:
            if path.is_dir():
                reset_dir(path)
            else:
                path.unlink(missing_ok=True)
        try:
            elapsed, cpu = time_ansible_playbook(self.cfg, work, env=self.env)
            self.seconds.append(elapsed)
            self.cpu.append(cpu)
            self.facts.append(facts_seconds(work / "ansible-playbook.log"))
        finally:
            close_masters(self.control_dir)


def build_cases(work: Path, farm: HostFarm, hosts: list[Any], skip_mitogen: bool) -> list[Case]:
    text, _ = stock_cfg()
    stock_dir = work / "stock"
    reset_dir(stock_dir)
    (stock_dir / "ansible.cfg").write_text(text, encoding="utf-8")
    # Stock keeps its ControlPath under ~/.ansible/cp; we only move the directory (so that we
    # close our own masters, not another user's) - the setting itself is unchanged.
    stock_cp = stock_dir / "cp"
    reset_dir(stock_cp)
    cases = [Case("stock (Kubespray's ansible.cfg)", stock_dir / "ansible.cfg",
                  [Path("/tmp") / h.name for h in hosts], stock_cp,
                  {"ANSIBLE_SSH_CONTROL_PATH_DIR": str(stock_cp)})]
    base_dir = KUBESPRAY_TREE if KUBESPRAY_TREE.is_dir() else stock_dir
    strategies = ["linear"] if skip_mitogen else ["linear", "mitogen"]
    for strategy in strategies:
        state = work / f"deepctl-{strategy}"
        cluster = cluster_for(farm, hosts, work, strategy)
        cfg, settings = deepctl_cfg(cluster, state, work / "known_hosts", text, base_dir)
        label = "deepctl" if strategy == "linear" else "deepctl + mitogen_linear"
        cases.append(Case(label, cfg, [settings.fact_cache], settings.control_dir))
    return cases


def report(cases: list[Case]) -> dict[str, Any]:
    stock = statistics.median(cases[0].seconds)
    results: dict[str, Any] = {}
    rows = []
    for case in cases:
        median, cpu = statistics.median(case.seconds), statistics.median(case.cpu)
        facts = statistics.median(case.facts)
        results[case.name] = {"median_s": median, "all_s": case.seconds,
                              "speedup_vs_stock": stock / median, "tree_cpu_s": cpu,
                              "all_cpu_s": case.cpu, "facts_s": facts, "all_facts_s": case.facts}
        rows.append([case.name, f"{median:.1f} s", f"{min(case.seconds):.1f} s",
                     f"{median / stock:.2f}x", f"{stock / median:.2f}x", f"{cpu:.1f} s",
                     f"{facts:.1f} s", f"{median - facts:.1f} s"])
    print(table(rows, ["settings", "median", "min", "time vs stock", "speed-up",
                       "controller CPU", "facts (1st contact)", "after facts"]))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hosts", type=int, default=30)
    parser.add_argument("--tasks", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3, help="timed runs per case (median kept)")
    parser.add_argument("--no-mitogen", action="store_true", help="skip the Mitogen case")
    parser.add_argument("--output", type=Path, help="results file (default bench/results/)")
    args = parser.parse_args()
    require_hosts()
    _, origin = stock_cfg()
    load_before = load_average()
    with HostFarm(pool="function") as farm, tempfile.TemporaryDirectory() as tmp:
        hosts = start_hosts(farm, args.hosts, HOST_PREFIX)
        work = write_workdir(Path(tmp), farm, hosts, args.tasks)
        cases = build_cases(work, farm, hosts, args.no_mitogen)
        try:
            for _ in range(args.runs):
                for case in cases:
                    case.run_once(work)
        finally:
            for host in hosts:
                (Path("/tmp") / host.name).unlink(missing_ok=True)
    results = report(cases)
    load_after = load_average()
    # "not slower": equal within NOISE (runs of one case spread by +-10% on this machine)
    verdicts = {"deepctl_not_slower": results[cases[1].name]["speedup_vs_stock"] >= 1 - NOISE}
    if len(cases) > 2:
        verdicts["mitogen_2x"] = results[cases[2].name]["speedup_vs_stock"] >= 2.0
    print(f"\n{args.hosts} hosts x {args.tasks} tasks, {args.runs} run(s) each; stock cfg: "
          f"{origin}; load average before {load_before}, after {load_after}")
    for name, met in verdicts.items():
        print(f"target {name}: {'met' if met else 'MISSED'}")
    path = save("ansible_tuning", {
        "hosts": args.hosts, "tasks": args.tasks, "runs": args.runs, "stock_cfg": origin,
        "load_average_before": load_before, "load_average_after": load_after,
        "results": results, "targets": verdicts}, args.output)
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
