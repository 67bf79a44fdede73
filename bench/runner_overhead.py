"""Benchmark 4: what deepctl's runner adds on top of ansible-playbook, and the progress pipeline's rate.

Part 1: one synthetic playbook (facts, then 30 tiny tasks) on 10 loopback test hosts
(tests/harness: a real sshd per host), run four ways, interleaved, each from a cold start:

  ansible-playbook       plain ``ansible-playbook`` with the ansible.cfg, environment, forks and
                         --become that deepctl generated for the run (output to a file);
  ansible-runner alone   deepctl's runner with no event handed to deepctl: what ansible-runner
                         itself costs (its event callback in Ansible, a pty, event files);
  deepctl, plain lines   the engine's ``Ansible.run`` (ansible-runner, events -> progress ->
                         display, run log) with the off-terminal display, in its own process;
  deepctl, live view     the same with the rich live view, on a null terminal-like console;
  deepctl, state on tmpfs  plain lines with the state directory (so the run directory and
                         ansible-runner's event files) on /dev/shm: what the disk's file
                         creations cost (skipped where /dev/shm is not a tmpfs).

Target: deepctl within 1.10x of plain ansible-playbook. The timed deepctl runs know the
playbook's task count from an earlier run (any re-run does); the very first run, which also
counts the tasks with ``ansible-playbook --list-tasks`` beside the real run, is reported on
its own row. Besides wall time, each row has the CPU seconds of the whole process tree
(Ansible, its workers, ssh: steadier than wall time on a shared machine) and, for deepctl,
those of its own process (event handling, progress, display).

Part 2: replay an event stream recorded in part 1 (ansible-runner's job_events), cycled to
100,000 events, through the same ``Ansible.run`` code path with ansible-runner replaced by
the replay, with no terminal (plain lines to /dev/null). Target: >= 20,000 events/s.

Needs root (the test hosts). Writes bench/results/runner_overhead.json.

    .venv/bin/python bench/runner_overhead.py                     # 10 hosts x 30 tasks, 3 runs
    .venv/bin/python bench/runner_overhead.py --hosts 2 --tasks 3 --runs 1 --events 5000
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from _common import PYTHON, table
from _replay import PLAYBOOK, STAGE, engine, replay_rates
from _synthetic import (
    ANSIBLE_PLAYBOOK,
    HostFarm,
    close_masters,
    load_average,
    require_hosts,
    reset_dir,
    run_tree,
    save,
    spec_text,
    start_hosts,
    stock_cfg,
    write_workdir,
)

from deepctl.engine import playbooks
from deepctl.workspace import open_workspace

MODES = {"runner": "ansible-runner alone", "plain": "deepctl, plain lines",
         "live": "deepctl, live view", "memory": "deepctl, state on tmpfs"}
MEMORY = Path("/dev/shm")  # where the "memory" way keeps its state directory


def memory_is_tmpfs() -> bool:
    try:
        mounts = Path("/proc/self/mounts").read_text(encoding="ascii").splitlines()
    except OSError:
        return False
    return any(line.split()[1:3] == [str(MEMORY), "tmpfs"] for line in mounts)


@contextlib.contextmanager
def events_unhandled() -> Iterator[None]:
    """ansible-runner runs the playbook as in a deploy, but no event reaches deepctl."""
    real = playbooks.run_playbook

    def runner_only(run: Any, on_event: Any, should_cancel: Any = None, tools: Any = None
                    ) -> Any:
        return real(run, None, should_cancel, tools)

    playbooks.run_playbook = runner_only
    try:
        yield
    finally:
        playbooks.run_playbook = real


def prepare(work: Path, farm: HostFarm, hosts: list[Any], tasks: int) -> Path:
    """A Kubespray-like tree with the synthetic playbook, a spec pointing at it, its state."""
    tree = work / "tree"
    write_workdir(tree, farm, hosts, tasks)
    (tree / "ansible.cfg").write_text(stock_cfg()[0], encoding="utf-8")
    spec = work / "cluster.yaml"
    spec.write_text(spec_text(farm, hosts, kubespray={"path": str(tree)}), encoding="utf-8")
    state = work / "state"
    state.mkdir(mode=0o700)
    (state / "known_hosts").write_text(farm.known_hosts(hosts), encoding="ascii")
    open_workspace(spec, state).render_inventory()
    return spec


def child(mode: str, spec: Path, state: Path) -> None:
    """One deepctl run of the playbook in this process; prints JSON (own CPU, run dir)."""
    from rich.console import Console

    from deepctl.engine.display import LiveDisplay, PlainDisplay

    null = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives as long as the run
    display = (LiveDisplay(Console(file=null, force_terminal=True, width=120, height=40))
               if mode == "live" else PlainDisplay(null))
    ansible = engine(open_workspace(spec, state), display)
    try:
        ansible.prepare()
        with events_unhandled() if mode == "runner" else contextlib.nullcontext():
            ansible.run(STAGE, PLAYBOOK)
    finally:
        close_masters(ansible.settings.control_dir)
        display.close()
    times = os.times()
    print(json.dumps({"cpu_s": times.user + times.system, "run_dir": str(ansible.record.dir)}))


def time_child(mode: str, spec: Path, state: Path, log: Path) -> tuple[float, float, dict[str, Any]]:
    argv = [PYTHON, __file__, "--child", mode, "--spec", str(spec), "--state", str(state)]
    elapsed, cpu, rc = run_tree(argv, None, log)
    out = log.read_text(encoding="utf-8")
    if rc != 0:
        raise SystemExit(f"deepctl run ({mode}) failed:\n{out[-6000:]}")
    return elapsed, cpu, json.loads(out.strip().splitlines()[-1])


def time_plain(spec: Path, state: Path) -> tuple[float, float]:
    """Plain ansible-playbook with the settings of a run deepctl prepared (not run)."""
    from deepctl.engine.display import PlainDisplay

    ws = open_workspace(spec, state)
    ansible = engine(ws, PlainDisplay(open(os.devnull, "w", encoding="utf-8")))  # noqa: SIM115
    ansible.prepare()
    reset_dir(ansible.settings.fact_cache)
    argv = [ANSIBLE_PLAYBOOK, "-i", str(ws.state.inventory_dir),
            "--forks", str(ansible.settings.forks), str(ansible.tree.playbook(PLAYBOOK))]
    if ws.cluster.spec.ssh.become:
        argv.insert(1, "--become")
    env = {**os.environ, "ANSIBLE_HOST_KEY_CHECKING": "True", **ansible.envvars()}
    log = ansible.record.dir / "ansible-playbook.log"
    try:
        elapsed, cpu, rc = run_tree(argv, env, log)
    finally:
        close_masters(ansible.settings.control_dir)
    if rc != 0:
        raise SystemExit(f"ansible-playbook failed (exit {rc}); see {log}")
    return elapsed, cpu


def recorded_events(run_dir: Path) -> list[dict[str, Any]]:
    """The events ansible-runner recorded for the run's playbook, in order."""
    folder = run_dir / "ansible" / STAGE / "artifacts" / Path(PLAYBOOK).stem / "job_events"
    events = [json.loads(p.read_text(encoding="utf-8")) for p in folder.glob("*.json")]
    return sorted(events, key=lambda e: int(e.get("counter", 0)))


def mode_states(state: Path, memory: Path | None) -> dict[str, Path]:
    """A copy of the prepared state per way of running (the ansible-runner-only way records
    no task count; it must not take the count away from the others); the "memory" way's
    under ``memory`` (a tmpfs), left out when that is None."""
    states = {"ansible-playbook": state}
    for mode in MODES:
        if mode == "memory" and memory is None:
            continue
        where = memory if mode == "memory" and memory is not None else state.parent
        states[mode] = shutil.copytree(state, where / f"state-{mode}",
                                       ignore=shutil.ignore_patterns("runs", "ssh"))
    return states


def measure_runs(spec: Path, state: Path, runs: int, memory: Path | None
                 ) -> tuple[dict[str, Any], Path]:
    """Time every way ``runs`` times, interleaved. Before them, one deepctl run as a first run
    is (it counts the playbook's tasks with ``--list-tasks`` beside it): reported apart."""
    first_s, first_cpu, _ = time_child("plain", spec, state, state.parent / "first.log")
    states = mode_states(state, memory)
    modes = {mode: label for mode, label in MODES.items() if mode in states}
    labels = ["ansible-playbook", *modes.values()]
    wall: dict[str, list[float]] = {label: [] for label in labels}
    tree_cpu: dict[str, list[float]] = {label: [] for label in labels}
    own_cpu: dict[str, list[float]] = {label: [] for label in modes.values()}
    run_dir = Path()
    for _ in range(runs):
        elapsed, cpu = time_plain(spec, state)
        wall["ansible-playbook"].append(elapsed)
        tree_cpu["ansible-playbook"].append(cpu)
        for mode, label in modes.items():
            elapsed, cpu, info = time_child(mode, spec, states[mode],
                                            state.parent / f"{mode}.log")
            wall[label].append(elapsed)
            tree_cpu[label].append(cpu)
            own_cpu[label].append(info["cpu_s"])
            if mode in ("plain", "live"):
                run_dir = Path(info["run_dir"])
    base = statistics.median(wall["ansible-playbook"])
    base_cpu = statistics.median(tree_cpu["ansible-playbook"])
    results = {label: {
        "median_s": statistics.median(wall[label]), "all_s": wall[label],
        "ratio": statistics.median(wall[label]) / base,
        "tree_cpu_s": statistics.median(tree_cpu[label]),
        "cpu_ratio": statistics.median(tree_cpu[label]) / base_cpu,
        "deepctl_cpu_s": statistics.median(own_cpu[label]) if label in own_cpu else None,
    } for label in labels}
    results["deepctl, first run (tasks counted beside)"] = {
        "median_s": first_s, "all_s": [first_s], "ratio": first_s / base, "tree_cpu_s": first_cpu,
        "cpu_ratio": first_cpu / base_cpu, "deepctl_cpu_s": None}
    return results, run_dir


def print_runs(results: dict[str, Any]) -> None:
    rows = [[label, f"{r['median_s']:.2f} s", f"{min(r['all_s']):.2f} s", f"{r['ratio']:.3f}x",
             f"{r['tree_cpu_s']:.1f} s", f"{r['cpu_ratio']:.3f}x",
             "" if r["deepctl_cpu_s"] is None else f"{r['deepctl_cpu_s']:.2f} s"]
            for label, r in results.items()]
    print(table(rows, ["run by", "median", "min", "wall vs a-p", "tree CPU", "CPU vs a-p",
                       "deepctl process CPU"]))
    print("(a-p: plain ansible-playbook; tree CPU: the process and all its descendants, i.e.\n"
          " Ansible, its workers and ssh clients; deepctl process CPU: that process alone)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hosts", type=int, default=10)
    parser.add_argument("--tasks", type=int, default=30)
    parser.add_argument("--runs", type=int, default=3, help="timed runs per way (median kept)")
    parser.add_argument("--events", type=int, default=100_000, help="events to replay")
    parser.add_argument("--child", choices=sorted(MODES), help=argparse.SUPPRESS)
    parser.add_argument("--spec", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--state", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, help="results file (default bench/results/)")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.spec, args.state)
        return 0
    require_hosts()
    load_before = load_average()
    with contextlib.ExitStack() as stack:
        farm = stack.enter_context(HostFarm(pool="function"))
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        memory = (Path(stack.enter_context(tempfile.TemporaryDirectory(dir=MEMORY)))
                  if memory_is_tmpfs() else None)
        hosts = start_hosts(farm, args.hosts)
        spec = prepare(Path(tmp), farm, hosts, args.tasks)
        runs, run_dir = measure_runs(spec, Path(tmp) / "state", args.runs, memory)
        events = recorded_events(run_dir)
        rates = replay_rates(spec, Path(tmp) / "state-plain", events, args.events)
    load_after = load_average()
    print_runs(runs)
    worst = max(runs[label]["ratio"] for label in (MODES["plain"], MODES["live"]))
    print(f"\n{args.hosts} hosts x {args.tasks} tasks, {args.runs} run(s) each; worst deepctl / "
          f"ansible-playbook = {worst:.3f}x (target <= 1.10: "
          f"{'met' if worst <= 1.10 else 'MISSED'})")
    print(f"\nreplay of {args.events:,} events ({len(events)} recorded, cycled):")
    print(table([[name, f"{r['events_per_s']:,.0f}", f"{r['seconds']:.2f} s"]
                 for name, r in rates.items()], ["display", "events/s", "time"]))
    rate = rates["plain lines (no terminal)"]["events_per_s"]
    print(f"no-terminal rate {rate:,.0f} events/s (target >= 20,000: "
          f"{'met' if rate >= 20_000 else 'MISSED'})")
    print(f"load average before {load_before}, after {load_after}")
    path = save("runner_overhead", {
        "hosts": args.hosts, "tasks": args.tasks, "runs": args.runs,
        "load_average_before": load_before, "load_average_after": load_after,
        "results": runs, "worst_ratio": worst, "target_ratio": 1.10,
        "replay": {"events": args.events, "recorded": len(events), "rates": rates,
                   "target_events_per_s": 20_000}}, args.output)
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
