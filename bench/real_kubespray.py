"""Benchmark 7: the REAL Kubespray's cluster.yml to its first download, deepctl vs stock.

On isolated loopback test hosts (tests/harness/isolated.py: own root, own namespaces) that
are warmed first (one unmeasured deploy installs Kubespray's packages and fills the fact
caches), the same cluster.yml run from the same warm state, interleaved, ``--runs`` times:

  deepctl  ``deepctl deploy SPEC --yes --only kubespray``: the whole CLI (spec, inventory,
           ansible-runner, events, run record); wall time of the process
  stock    plain ``ansible-playbook -i <deepctl's inventory> cluster.yml`` with Kubespray's own
           ansible.cfg (``ANSIBLE_CONFIG``), as a Kubespray user runs it; wall time. Only its
           control-socket directory is moved (env), to close its SSH masters after each run
  mitogen  deepctl with ``spec.ansible.strategy: mitogen`` (``--no-mitogen`` leaves it out)

Every run stops at Kubespray's first download: all download URLs point at a loopback port
where nothing listens. Target: deepctl <= 1.0x stock. Needs root and the real tree
(``DEEPCTL_TEST_KUBESPRAY`` or ``--tree``). Writes bench/results/real_kubespray.json.

    .venv/bin/python bench/real_kubespray.py                  # 3 hosts, 1 run each (~15 min)
    .venv/bin/python bench/real_kubespray.py --plan           # set up, print the commands only
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from _common import DEEPCTL, ROOT, table, write_results

sys.path.insert(0, str(ROOT))

from tests.harness import HostFarm, HostProfile, TestHost, missing_requirements
from tests.harness.isolated import missing_isolation
from tests.integration.real_kubespray_support import (
    DEFAULT_TREE,
    closed_loopback_url,
    mirror_vars,
    real_spec,
)

from deepctl.engine.signals import close_ssh_masters

ANSIBLE_PLAYBOOK = str(Path(sys.executable).parent / "ansible-playbook")
ROLES = (["control-plane", "etcd", "worker"], ["worker"], ["worker"], ["worker"], ["worker"])


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=3, help="isolated hosts (1-5, default 3)")
    parser.add_argument("--runs", type=int, default=1, help="measured runs per way (default 1)")
    parser.add_argument("--no-mitogen", action="store_true", help="leave Mitogen out")
    parser.add_argument("--tree", type=Path, default=Path(os.environ.get("DEEPCTL_TEST_KUBESPRAY")
                                                           or DEFAULT_TREE))
    parser.add_argument("--plan", action="store_true", help="set up, print the commands, run none")
    parser.add_argument("--output", type=Path, default=None, help="JSON file (default bench/results)")
    return parser.parse_args()


def timed(argv: list[str], cwd: Path, env: dict[str, str], log: Path) -> tuple[float, int]:
    """Wall seconds and exit code of ``argv`` (output to ``log``)."""
    start = time.perf_counter()
    with open(log, "w", encoding="utf-8") as out:
        code = subprocess.run(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, check=False).returncode
    return time.perf_counter() - start, code


def last_task(log: Path) -> str:
    """The last task an ansible-playbook or deepctl log names: where the run stopped.

    (Counting headers would not compare: stock's ``display_skipped_hosts = no`` prints no
    header for a task every host skipped.)"""
    last = ""
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("TASK ["):
            last = line[len("TASK ["):].split("]", 1)[0].split(" : ", 1)[-1]
        elif "] TASK " in line:
            last = line.split("] TASK ", 1)[1].strip()
    return last


class Way:
    def __init__(self, name: str, argv: list[str], cwd: Path, env: dict[str, str],
                 control_dir: Path | None = None) -> None:
        self.name, self.argv, self.cwd, self.env = name, argv, cwd, env
        self.control_dir = control_dir  # SSH masters to close after a run (deepctl closes its own)
        self.seconds: list[float] = []
        self.last_tasks: list[str] = []
        self.codes: list[int] = []

    def run_once(self, logs: Path) -> None:
        log = logs / f"{self.name.split()[0]}-{len(self.seconds) + 1}.log"
        seconds, code = timed(self.argv, self.cwd, self.env, log)
        self.seconds.append(seconds)
        self.codes.append(code)
        self.last_tasks.append(last_task(log))
        if self.control_dir is not None:
            close_ssh_masters(self.control_dir)  # every run starts without SSH masters
        print(f"  {self.name}: {seconds:.1f} s, exit {code}, stopped at {self.last_tasks[-1]!r}", flush=True)

    def summary(self) -> dict[str, Any]:
        return {"median_s": statistics.median(self.seconds), "runs_s": self.seconds,
                "stopped_at": self.last_tasks, "exit_codes": self.codes, "argv": self.argv}


def ways(work: Path, spec: Path, tree: Path, mitogen: bool) -> list[Way]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    deepctl = Way("deepctl", [DEEPCTL, "deploy", str(spec), "--yes", "--only", "kubespray"], work, env)
    inventory = work / "stock-inventory"
    control_dir = work / "stock-cp"  # only where its ControlPersist=30m sockets go, to close them
    stock_env = {**env, "ANSIBLE_CONFIG": str(tree / "ansible.cfg"),
                 "ANSIBLE_SSH_CONTROL_PATH_DIR": str(control_dir)}
    stock = Way("stock (Kubespray's ansible.cfg)",
                [ANSIBLE_PLAYBOOK, "-i", str(inventory), "cluster.yml"], tree, stock_env, control_dir)
    result = [deepctl, stock]
    if mitogen:
        text = spec.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
        data["spec"]["ansible"] = {"strategy": "mitogen"}
        mitogen_spec = spec.with_name("cluster-mitogen.yaml")
        mitogen_spec.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        result.append(Way("deepctl + mitogen_linear",
                          [DEEPCTL, "deploy", str(mitogen_spec), "--yes", "--only", "kubespray"], work, env))
    return result


def copy_inventory(work: Path) -> None:
    """The inventory deepctl rendered (same hosts, vars, become) for the stock runs."""
    runs = sorted((work / ".deepctl" / "lab" / "runs").iterdir())
    shutil.copytree(runs[-1] / "inventory", work / "stock-inventory", dirs_exist_ok=True)


def warm_up(work: Path, spec: Path) -> float:
    print("warming up: one unmeasured deploy (packages, fact caches) ...", flush=True)
    seconds, code = timed([DEEPCTL, "deploy", str(spec), "--yes"], work,
                          {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}, work / "warm-up.log")
    print(f"  warm-up: {seconds:.1f} s, exit {code}, stopped at {last_task(work / 'warm-up.log')!r}",
          flush=True)
    return seconds


def measure(args: argparse.Namespace, farm: HostFarm, hosts: list[TestHost], work: Path) -> dict[str, Any]:
    spec = real_spec(work, farm, {h: ROLES[i] for i, h in enumerate(hosts)}, args.tree,
                     mirror_vars(closed_loopback_url() + "/mirror"))
    all_ways = ways(work, spec, args.tree, not args.no_mitogen)
    if args.plan:
        for way in all_ways:
            print(f"{way.name}: (cd {way.cwd} && {shlex.join(way.argv)})")
        return {"plan": [w.argv for w in all_ways]}
    warm = warm_up(work, spec)
    copy_inventory(work)
    logs = work / "logs"
    logs.mkdir()
    for round_ in range(args.runs):
        print(f"round {round_ + 1} of {args.runs}", flush=True)
        for way in all_ways:
            way.run_once(logs)
    return {"warm_up_s": warm, **{w.name: w.summary() for w in all_ways}}


def report(data: dict[str, Any], hosts: int) -> None:
    stock = data["stock (Kubespray's ansible.cfg)"]["median_s"]
    rows = [[name, f"{d['median_s']:.1f}", f"{d['median_s'] / stock:.2f}x",
             " / ".join(sorted(set(d["stopped_at"]))), "/".join(map(str, d["exit_codes"]))]
            for name, d in data.items() if isinstance(d, dict) and "median_s" in d]
    print(f"\ncluster.yml to the first download, {hosts} isolated hosts, warm:")
    print(table(rows, ["way", "median s", "vs stock", "stopped at", "exit"]))
    ratio = data["deepctl"]["median_s"] / stock
    print(f"target deepctl <= 1.0x stock: {ratio:.2f}x -> {'met' if ratio <= 1.0 else 'NOT met'}")


def main() -> int:
    args = parse_args()
    for reason in (missing_requirements(), missing_isolation()):
        if reason is not None:
            raise SystemExit(f"cannot run isolated test hosts here: {reason}")
    if not (args.tree / "cluster.yml").is_file():
        raise SystemExit(f"no Kubespray tree at {args.tree}: set DEEPCTL_TEST_KUBESPRAY or --tree")
    work = Path(tempfile.mkdtemp(prefix="deepctl-bench-real-"))
    try:
        with HostFarm(pool="function") as farm:
            hosts = farm.add_many(HostProfile(f"rk{i + 1}", isolated=True) for i in range(args.hosts))
            data = measure(args, farm, hosts, work)
        if args.plan:
            return 0
        report(data, args.hosts)
        load = os.getloadavg()
        path = write_results("real_kubespray", {"hosts": args.hosts, "runs": args.runs,
                                                "load_after": load, **data})
        if args.output:
            args.output.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
        print(f"results: {path}")
    finally:
        for host in ("rk1", "rk2", "rk3", "rk4", "rk5"):  # stock's jsonfile fact cache is /tmp/<host>
            Path(tempfile.gettempdir(), host).unlink(missing_ok=True)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
