"""Benchmark 7: the REAL Kubespray's cluster.yml to its first download, deepctl vs stock.

On isolated loopback test hosts (tests/harness/isolated.py: own root, own namespaces) that
are warmed first (one unmeasured deploy installs Kubespray's packages and fills the fact
caches), the same cluster.yml run from the same warm state, interleaved, ``--runs`` times:

  deepctl  ``deepctl deploy SPEC --yes --only kubespray``: the whole CLI (spec, inventory,
           ansible-runner, events, run record); wall time of the process
  stock    plain ``ansible-playbook -i <deepctl's inventory> cluster.yml`` with Kubespray's own
           ansible.cfg (``ANSIBLE_CONFIG``), as a Kubespray user runs it; wall time. Only its
           control-socket directory is moved (env), to close its SSH masters after each run
  settings plain ``ansible-playbook`` with deepctl's generated ansible.cfg, inventory, extra
           variables and environment (copied from the warm-up run): deepctl's Ansible
           settings without ansible-runner, to tell the two apart
  mitogen  deepctl with ``spec.ansible.strategy: mitogen`` (``--no-mitogen`` leaves it out)

Besides wall time, each run records the CPU seconds of its process tree (``wait4``: the
controller side) and the busy CPU seconds of the whole machine (``/proc/stat``: the test
hosts' sshd, sudo and Python too, which share these cores).

Every run stops at Kubespray's first download: all download URLs point at a loopback port
where nothing listens. Target: deepctl <= 1.0x stock. Needs root and the real tree
(``DEEPCTL_TEST_KUBESPRAY`` or ``--tree``). Writes bench/results/real_kubespray.json.

    .venv/bin/python bench/real_kubespray.py                  # 3 hosts, 1 warm + 1 run each (~20 min)
    .venv/bin/python bench/real_kubespray.py --plan           # set up, print the commands only
"""

from __future__ import annotations

import argparse
import json
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
    parser.add_argument("--warm-rounds", type=int, default=1,
                        help="unmeasured rounds of every way after the warm-up deploy (default 1)")
    parser.add_argument("--no-mitogen", action="store_true", help="leave Mitogen out")
    parser.add_argument("--tree", type=Path, default=Path(os.environ.get("DEEPCTL_TEST_KUBESPRAY")
                                                           or DEFAULT_TREE))
    parser.add_argument("--plan", action="store_true", help="set up, print the commands, run none")
    parser.add_argument("--output", type=Path, default=None, help="JSON file (default bench/results)")
    return parser.parse_args()


def machine_busy() -> float:
    """Busy CPU seconds of the whole machine so far (``/proc/stat``: all but idle and iowait)."""
    with open("/proc/stat", encoding="ascii") as stat:
        ticks = [int(v) for v in stat.readline().split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def timed(argv: list[str], cwd: Path, env: dict[str, str], log: Path) -> tuple[float, int, float, float]:
    """Wall seconds, exit code, process-tree CPU seconds and machine busy seconds of ``argv``
    (output to ``log``)."""
    busy = machine_busy()
    start = time.perf_counter()
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return (time.perf_counter() - start, proc.returncode, usage.ru_utime + usage.ru_stime,
            machine_busy() - busy)


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
        self.tree_cpu: list[float] = []
        self.machine_busy: list[float] = []
        self.last_tasks: list[str] = []
        self.codes: list[int] = []

    def run_once(self, logs: Path) -> None:
        log = logs / f"{self.name.split()[0]}-{len(self.seconds) + 1}.log"
        seconds, code, cpu, busy = timed(self.argv, self.cwd, self.env, log)
        self.seconds.append(seconds)
        self.tree_cpu.append(cpu)
        self.machine_busy.append(busy)
        self.codes.append(code)
        self.last_tasks.append(last_task(log))
        if self.control_dir is not None:
            close_ssh_masters(self.control_dir)  # every run starts without SSH masters
        print(f"  {self.name}: {seconds:.1f} s, tree CPU {cpu:.1f} s, machine busy {busy:.1f} s, "
              f"exit {code}, stopped at {self.last_tasks[-1]!r}", flush=True)

    def forget(self) -> None:
        """Drop the last run's numbers (a warm-up run)."""
        for samples in (self.seconds, self.tree_cpu, self.machine_busy, self.last_tasks, self.codes):
            samples.pop()

    def summary(self) -> dict[str, Any]:
        return {"median_s": statistics.median(self.seconds), "runs_s": self.seconds,
                "tree_cpu_s": self.tree_cpu, "machine_busy_s": self.machine_busy,
                "median_tree_cpu_s": statistics.median(self.tree_cpu),
                "median_machine_busy_s": statistics.median(self.machine_busy),
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
    settings = settings_way(work, tree, env)  # after the warm-up
    if settings is not None:
        result.append(settings)
    if mitogen:
        text = spec.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
        data["spec"]["ansible"] = {"strategy": "mitogen"}
        mitogen_spec = spec.with_name("cluster-mitogen.yaml")
        mitogen_spec.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        result.append(Way("deepctl + mitogen_linear",
                          [DEEPCTL, "deploy", str(mitogen_spec), "--yes", "--only", "kubespray"], work, env))
    return result


def settings_way(work: Path, tree: Path, env: dict[str, str]) -> Way | None:
    """Plain ansible-playbook with what the warm-up run gave it through ansible-runner (its
    command line, ansible.cfg, environment), once :func:`copy_inventory` saved them."""
    plain = work / "deepctl-settings"
    if not (plain / "command.json").is_file():
        return None
    command = json.loads((plain / "command.json").read_text(encoding="utf-8"))
    settings_env = {**env, **json.loads((plain / "env.json").read_text(encoding="utf-8"))}
    return Way("ansible-playbook + deepctl's ansible.cfg", [ANSIBLE_PLAYBOOK, *command["args"]],
               tree, settings_env, work / ".deepctl" / "lab" / "ssh")


def copy_inventory(work: Path) -> None:
    """The inventory deepctl rendered (same hosts, vars, become) for the stock runs, and the
    warm-up run's ansible.cfg, environment, extra variables and command line for the
    "deepctl's settings" runs (runs are pruned, so they are copied)."""
    run = sorted((work / ".deepctl" / "lab" / "runs").iterdir())[-1]
    shutil.copytree(run / "inventory", work / "stock-inventory", dirs_exist_ok=True)
    plain = work / "deepctl-settings"
    shutil.copytree(run / "inventory", plain / "inventory", dirs_exist_ok=True)
    config = plain / "ansible.cfg"
    shutil.copy(run / "ansible.cfg", config)
    env = json.loads((run / "env.json").read_text(encoding="utf-8"))
    env["ANSIBLE_CONFIG"] = str(config)
    (plain / "env.json").write_text(json.dumps(env), encoding="utf-8")
    shutil.copy(run / "ansible" / "kubespray" / "env" / "extravars", plain / "extravars")
    # the exact command line ansible-runner ran, pointed at the copies
    command = json.loads((run / "ansible" / "kubespray" / "artifacts" / "cluster" / "command")
                         .read_text(encoding="utf-8"))["command"][1:]
    copies = {str(run / "inventory"): str(plain / "inventory"),
              f"@{run / 'ansible' / 'kubespray' / 'env' / 'extravars'}": f"@{plain / 'extravars'}"}
    args = [copies.get(arg, arg) for arg in command]
    (plain / "command.json").write_text(json.dumps({"args": args}), encoding="utf-8")


def warm_up(work: Path, spec: Path) -> float:
    print("warming up: one unmeasured deploy (packages, fact caches) ...", flush=True)
    seconds, code, _, _ = timed([DEEPCTL, "deploy", str(spec), "--yes"], work,
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
    all_ways = ways(work, spec, args.tree, not args.no_mitogen)  # now with the copied settings
    logs = work / "logs"
    logs.mkdir()
    # every way once, unmeasured: each starts from the same warm state (its own fact cache
    # and a host that has run cluster.yml's preinstall tasks just before), not only deepctl
    for round_ in range(args.warm_rounds):
        print(f"warm round {round_ + 1} of {args.warm_rounds} (not measured)", flush=True)
        for way in all_ways:
            way.run_once(logs)
            way.forget()
    for round_ in range(args.runs):
        print(f"round {round_ + 1} of {args.runs}", flush=True)
        for way in all_ways:
            way.run_once(logs)
    runs = {w.name: w.summary() for w in all_ways}
    return {"warm_up_s": warm, **runs, "deepctl_vs_stock": paired_ratios(
        runs["deepctl"]["runs_s"], runs["stock (Kubespray's ansible.cfg)"]["runs_s"])}


def report(data: dict[str, Any], hosts: int) -> None:
    stock = data["stock (Kubespray's ansible.cfg)"]["median_s"]
    stock_busy = data["stock (Kubespray's ansible.cfg)"]["median_machine_busy_s"]
    rows = [[name, f"{d['median_s']:.1f}", f"{d['median_s'] / stock:.2f}x",
             f"{d['median_tree_cpu_s']:.1f}", f"{d['median_machine_busy_s']:.1f}",
             f"{d['median_machine_busy_s'] / stock_busy:.2f}x",
             " / ".join(sorted(set(d["stopped_at"]))), "/".join(map(str, d["exit_codes"]))]
            for name, d in data.items() if isinstance(d, dict) and "median_s" in d]
    print(f"\ncluster.yml to the first download, {hosts} isolated hosts, warm:")
    print(table(rows, ["way", "median s", "vs stock", "tree CPU s", "machine busy s",
                       "busy vs stock", "stopped at", "exit"]))
    paired = data["deepctl_vs_stock"]
    print("deepctl / stock, round by round: " + ", ".join(f"{r:.2f}x" for r in paired["rounds"]))
    print(f"median of the rounds' ratios {paired['median_of_rounds']:.3f}x, all rounds' time "
          f"{paired['total']:.3f}x, ratio of the medians {paired['of_medians']:.3f}x")
    ratio = paired["median_of_rounds"]
    print(f"target deepctl <= 1.0x stock (median of the rounds' ratios): {ratio:.2f}x -> "
          f"{'met' if ratio <= 1.0 else 'NOT met'}")


def paired_ratios(deepctl: list[float], stock: list[float]) -> dict[str, Any]:
    """deepctl against stock, round by round (each round runs every way once, in turn, so a
    round's two runs share the machine's state of the moment; between rounds the times drift),
    and the same over all rounds: the median of the rounds' ratios (the target), the ratio of
    the summed times, and the ratio of the two medians (which mixes rounds)."""
    rounds = [d / s for d, s in zip(deepctl, stock, strict=True)]
    return {"rounds": rounds, "median_of_rounds": statistics.median(rounds),
            "total": sum(deepctl) / sum(stock),
            "of_medians": statistics.median(deepctl) / statistics.median(stock)}


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
                                                "warm_rounds": args.warm_rounds,
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
