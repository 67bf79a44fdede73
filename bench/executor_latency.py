"""Benchmark 14: a deploy across a slow link, run here vs through an executor next to the cluster.

Issue 25. The stand-in Kubespray deploy (``deepctl deploy SPEC --yes --skip preflight``, as a
user types it, off a terminal) on N loopback test hosts (tests/harness: a real sshd per host),
three ways, interleaved, ``--runs`` times each:

  local         Ansible runs here, straight to the hosts (no delay at all: the baseline)
  local+delay   Ansible runs here, every host reached through the delaying proxy
                (controller -> proxy -> host: +``--rtt-ms`` per round trip)
  executor      Ansible runs on an executor test host (``spec.executor``); the link
                controller -> executor crosses the proxy, the executor -> hosts links do not
                (the executor sits on the near side of the cluster)

The proxy (bench/_delay_proxy.py, standard library: the kernel here has no netem) listens on a
loopback address of its own per host (127.0.0.x, leased from the harness's pool), forwards to
that host's sshd, and delays every chunk by half the round trip in each direction, and a new
connection by one round trip. Host keys stay checked: the proxy's address:port is written into
the run's known_hosts with the host key of the sshd behind it (no checking turned off).
The stand-in's ``cluster.yml`` runs one remote task per host (Kubespray's runs hundreds);
``--tasks N`` adds N tiny remote tasks (``command: /bin/true``) to it, in a copy of the tree,
to show how each way grows with the number of round trips.
Target: executor / local <= 1.2; local+delay / local is shown beside it. Bytes crossing the
proxy are counted per run; for the executor runs also the bytes deepctl sent (the Kubespray
tree, once, and the jobs: ``executor-transfer.json``).

Needs root (the test hosts). Writes bench/results/executor_latency.json.

    .venv/bin/python bench/executor_latency.py                    # 20 hosts, 3 runs each
    .venv/bin/python bench/executor_latency.py --hosts 2 --runs 1  # a quick smoke
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from _common import DEEPCTL, table
from _delay_proxy import DelayProxy
from _synthetic import load_average, require_hosts, save, start_hosts
from tests.harness import HostFarm, HostProfile, TestHost
from tests.harness.addresses import AddressLease, lease_address
from tests.integration.engine_support import STANDIN, markers, write_spec

TARGET = 1.2
WAYS = ("local", "local+delay", "executor")
TOOLS = ("ansible-runner", "ansible-playbook", "ansible-inventory", "ansible-config", "ansible")
VENV_BIN = Path(sys.executable).parent


def make_executor(farm: HostFarm) -> TestHost:
    """A test host whose PATH has this venv's ansible-runner and Ansible (as in the tests)."""
    (executor,) = farm.add_many([HostProfile("exec1")])
    for tool in TOOLS:
        (executor.bin_dir / tool).symlink_to(VENV_BIN / tool)
    return executor


def known_line(where: tuple[str, int], host: TestHost) -> str:
    return f"[{where[0]}]:{where[1]} {host.host_key_public}\n"


def standin_with_tasks(dest: Path, tasks: int) -> Path:
    """The stand-in tree, its per-host play given ``tasks`` more tiny remote tasks."""
    if tasks == 0:
        return STANDIN
    shutil.copytree(STANDIN, dest)
    steps = [{"name": f"Bench step {i + 1}", "ansible.builtin.command": "/bin/true",
              "changed_when": False} for i in range(tasks)]
    host_yml = dest / "standin" / "host.yml"
    host_yml.write_text(host_yml.read_text(encoding="utf-8")
                        + yaml.safe_dump(steps, sort_keys=False), encoding="utf-8")
    return dest


class Rig:
    """The farm, the executor and the proxy ports in front of every host and the executor."""

    def __init__(self, farm: HostFarm, hosts: list[TestHost], executor: TestHost,
                 proxy: DelayProxy, tree: Path) -> None:
        self.farm, self.hosts, self.executor, self.proxy = farm, hosts, executor, proxy
        self.tree = tree
        self.leases: list[AddressLease] = []
        self.front: dict[str, tuple[str, int]] = {}
        for host in [*hosts, executor]:
            lease = lease_address("function")
            self.leases.append(lease)
            self.front[host.name] = proxy.forward(lease.address, (host.address, host.port))

    def release(self) -> None:
        for lease in self.leases:
            lease.release()

    def spec(self, work: Path, way: str) -> Path:
        """The spec (and its known_hosts) of one run of ``way`` in a fresh directory."""
        roles = {h: ["control-plane", "etcd", "worker"] if i == 0 else ["worker"]
                 for i, h in enumerate(self.hosts)}
        path = write_spec(work, self.farm, roles, self.hosts[0], kubespray=self.tree)
        known = work / ".deepctl" / "lab" / "known_hosts"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if way == "local+delay":
            for entry in data["spec"]["hosts"]:
                entry["address"], entry["ssh"]["port"] = self.front[entry["name"]]
            known.write_text("".join(known_line(self.front[h.name], h) for h in self.hosts),
                             encoding="ascii")
        elif way == "executor":
            address, port = self.front[self.executor.name]
            data["spec"]["executor"] = {"address": address, "port": port}
            known.write_text(known.read_text(encoding="ascii")
                             + known_line((address, port), self.executor), encoding="ascii")
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return path


def sent_to_executor(state: Path) -> dict[str, int]:
    """What deepctl sent the executor in one run (the check's job and every playbook's)."""
    totals = {"tree_bytes": 0, "job_bytes": 0}
    for path in state.rglob("executor-transfer.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        for key in totals:
            totals[key] += int(data.get(key, 0))
    return totals


def deploy(rig: Rig, work: Path, way: str) -> dict[str, Any]:
    spec = rig.spec(work, way)
    log = work / "deploy.log"
    rig.proxy.reset_counters()
    begun = time.perf_counter()
    with log.open("w", encoding="utf-8") as out:
        proc = subprocess.Popen([DEEPCTL, "deploy", str(spec), "--yes", "--skip", "preflight"],
                                cwd=work, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL,
                                env={**os.environ, "COLUMNS": "120", "NO_COLOR": "1"})
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - begun
    rc = os.waitstatus_to_exitcode(status)
    if rc != 0:
        raise SystemExit(f"{way}: deepctl deploy failed (exit {rc}):\n"
                         + log.read_text(encoding="utf-8")[-4000:])
    missing = [h.name for h in rig.hosts if "cluster.yml" not in markers(work, h.name)]
    if missing:
        raise SystemExit(f"{way}: the stand-in cluster.yml did not run on {missing}")
    result: dict[str, Any] = {
        "seconds": round(seconds, 2),
        "tree_cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "proxy_bytes_up": rig.proxy.bytes_up, "proxy_bytes_down": rig.proxy.bytes_down,
        "proxy_connections": rig.proxy.connections,
    }
    state = work / ".deepctl" / "lab"
    run = json.loads(max((state / "runs").glob("*/state.json")).read_text(encoding="utf-8"))
    # before the stages: start-up and, with an executor, its checks (and their playbook)
    result["before_stages_s"] = round(seconds - float(run["duration_s"]), 2)
    for stage in ("kubespray", "verify"):
        result[f"{stage}_s"] = run["stages"][stage]["duration_s"]
    if way == "executor":
        result.update(sent_to_executor(state))
    return result


def kib(n: int) -> str:
    return f"{n / 1024:,.0f} KiB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3, help="runs of each way (interleaved)")
    parser.add_argument("--rtt-ms", type=float, default=50.0,
                        help="delay added per round trip by the proxy")
    parser.add_argument("--tasks", type=int, default=0,
                        help="tiny remote tasks added to the stand-in's cluster.yml per host")
    parser.add_argument("--ways", default=",".join(WAYS),
                        help="which ways to run (comma-separated; the ratios need local)")
    parser.add_argument("--keep", type=Path,
                        help="keep each run's directory (spec, deploy.log, state) under KEEP")
    parser.add_argument("--output", type=Path, help="results file (default bench/results/)")
    args = parser.parse_args()
    ways = [w for w in WAYS if w in args.ways.split(",")]
    if not ways or set(args.ways.split(",")) - set(WAYS):
        parser.error(f"--ways: choose from {', '.join(WAYS)}")
    require_hosts()
    load_before = load_average()
    runs: dict[str, list[dict[str, Any]]] = {way: [] for way in ways}
    with HostFarm(pool="function") as farm, DelayProxy(args.rtt_ms / 1000) as proxy, \
            tempfile.TemporaryDirectory() as tmp:
        if args.keep is not None:
            args.keep.mkdir(parents=True, exist_ok=True)
            tmp = str(args.keep)
        hosts = start_hosts(farm, args.hosts)
        executor = make_executor(farm)
        tree = standin_with_tasks(Path(tmp) / "kubespray-standin", args.tasks)
        rig = Rig(farm, hosts, executor, proxy, tree)
        try:
            for round_no in range(args.runs):
                for way in ways:
                    work = Path(tmp) / f"{way}-{round_no}"
                    work.mkdir()
                    result = deploy(rig, work, way)
                    runs[way].append(result)
                    print(f"round {round_no + 1}: {way:<12} {result['seconds']:7.2f} s", flush=True)
        finally:
            rig.release()
    medians = {way: statistics.median(r["seconds"] for r in runs[way]) for way in ways}
    base = medians.get("local")
    ratios = {way: medians[way] / base for way in ways} if base else {}
    rows = []
    for way in ways:
        last = runs[way][-1]
        rows.append([way, f"{medians[way]:.2f} s",
                     " / ".join(f"{r['seconds']:.1f}" for r in runs[way]),
                     f"{ratios[way]:.2f}x" if ratios else "-",
                     f"{statistics.median(r['tree_cpu_s'] for r in runs[way]):.1f} s",
                     *(f"{statistics.median(r[key] for r in runs[way]):.1f} s"
                       for key in ("before_stages_s", "kubespray_s", "verify_s")),
                     f"{kib(last['proxy_bytes_up'])} / {kib(last['proxy_bytes_down'])}",
                     str(last["proxy_connections"])])
    extra = f" + {args.tasks} tasks per host" if args.tasks else ""
    print(f"\nstand-in deploy{extra}, {args.hosts} hosts, +{args.rtt_ms:g} ms per round trip "
          f"through the proxy, {args.runs} run(s) of each way, interleaved")
    print(table(rows, ["way", "median", "runs (s)", "vs local", "controller CPU",
                       "before stages", "kubespray", "verify",
                       "through the proxy, up / down (last run)", "connections"]))
    if "executor" in runs:
        first, later = runs["executor"][0], runs["executor"][1:]
        print(f"sent to the executor: first run tree {kib(first['tree_bytes'])}, jobs "
              f"{kib(first['job_bytes'])}"
              + (f"; later runs tree {kib(later[-1]['tree_bytes'])}, jobs "
                 f"{kib(later[-1]['job_bytes'])}" if later else ""))
    met = None
    if "local+delay" in ratios:
        print(f"local+delay / local = {ratios['local+delay']:.2f}x "
              "(the slowdown of a run from here)")
    if "executor" in ratios:
        met = ratios["executor"] <= TARGET
        print(f"executor / local = {ratios['executor']:.2f}x (target <= {TARGET}x: "
              f"{'met' if met else 'MISSED'})")
    load_after = load_average()
    print(f"load average before {load_before}, after {load_after}")
    path = save("executor_latency", {
        "hosts": args.hosts, "extra_tasks": args.tasks, "runs_each": args.runs,
        "rtt_ms": args.rtt_ms,
        "runs": runs, "median_s": medians, "vs_local": ratios, "target": TARGET, "met": met,
        "load_average_before": load_before, "load_average_after": load_after}, args.output)
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
