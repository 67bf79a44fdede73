"""Benchmark 6: peak memory of the deepctl process during a deploy of 30 loopback hosts.

``deepctl deploy`` runs as a user types it (off-terminal, so with plain progress lines)
against 30 test hosts (tests/harness: a real sshd per host) and the Kubespray stand-in
(tests/fixtures/kubespray-standin: Kubespray's entry playbooks doing small real things over
SSH), addons off, preflight skipped. Target: the deepctl process under 150 MB.

What is measured: the peak RSS of the deepctl process *alone*, its ``VmHWM`` (Linux's
high-water mark of that process's resident memory), read from /proc every 20 ms while it
runs. ``ru_maxrss`` from ``wait4`` on deepctl is reported beside it but is not the target:
on Linux it is the largest of deepctl *and every descendant it waited for*, i.e. usually
ansible-playbook or one of its workers (Ansible's memory, not deepctl's).

Needs root (the test hosts). Writes bench/results/memory.json.

    .venv/bin/python bench/memory.py                 # 30 hosts
    .venv/bin/python bench/memory.py --hosts 2       # a quick smoke
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from _common import DEEPCTL
from _synthetic import HostFarm, load_average, require_hosts, save, start_hosts
from tests.integration.engine_support import markers, write_spec

TARGET_MB = 150
POLL_S = 0.02


def vm_hwm_kib(pid: int) -> int | None:
    """``VmHWM`` of ``pid`` in KiB (peak RSS of that process alone), None once it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def deploy_measured(spec: Path, cwd: Path) -> dict[str, Any]:
    """Run ``deepctl deploy``; its own peak RSS (polled), wait4's ru_maxrss, time, exit code."""
    argv = [DEEPCTL, "deploy", str(spec), "--yes", "--skip", "preflight"]
    log = cwd / "deploy.log"
    peak = {"kib": 0, "samples": 0}
    begun = time.perf_counter()
    with log.open("w", encoding="utf-8") as out:
        proc = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL,
                                env={**os.environ, "COLUMNS": "120", "NO_COLOR": "1"})
        done = threading.Event()

        def poll() -> None:
            while not done.is_set():
                value = vm_hwm_kib(proc.pid)
                if value is not None:
                    peak["kib"], peak["samples"] = max(peak["kib"], value), peak["samples"] + 1
                time.sleep(POLL_S)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        _, status, usage = os.wait4(proc.pid, 0)
        done.set()
        poller.join()
    rc = os.waitstatus_to_exitcode(status)
    if rc != 0:
        raise SystemExit(f"deepctl deploy failed (exit {rc}):\n"
                         + log.read_text(encoding="utf-8")[-4000:])
    return {"deepctl_peak_rss_mib": round(peak["kib"] / 1024, 1),
            "deepctl_peak_rss_mb": round(peak["kib"] * 1024 / 1e6, 1),
            "samples": peak["samples"],
            "tree_max_rss_mib": round(usage.ru_maxrss / 1024, 1),
            "seconds": round(time.perf_counter() - begun, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hosts", type=int, default=30)
    parser.add_argument("--output", type=Path, help="results file (default bench/results/)")
    args = parser.parse_args()
    require_hosts()
    load_before = load_average()
    with HostFarm(pool="function") as farm, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        hosts = start_hosts(farm, args.hosts)
        roles = {h: ["control-plane", "etcd", "worker"] if i == 0 else ["worker"]
                 for i, h in enumerate(hosts)}
        spec = write_spec(work, farm, roles, hosts[0])
        result = deploy_measured(spec, work)
        ran_everywhere = all(markers(work, h.name) == ["cluster.yml"] for h in hosts)
    if not ran_everywhere:
        raise SystemExit("the stand-in cluster.yml did not run on every host")
    met = result["deepctl_peak_rss_mb"] < TARGET_MB
    print(f"deepctl deploy, {args.hosts} hosts (Kubespray stand-in), {result['seconds']:.1f} s")
    print(f"  deepctl process peak RSS (VmHWM): {result['deepctl_peak_rss_mib']} MiB "
          f"= {result['deepctl_peak_rss_mb']} MB (target < {TARGET_MB} MB: "
          f"{'met' if met else 'MISSED'}; {result['samples']} samples)")
    print(f"  largest process of the tree (wait4 ru_maxrss, Ansible's): "
          f"{result['tree_max_rss_mib']} MiB")
    load_after = load_average()
    print(f"load average before {load_before}, after {load_after}")
    path = save("memory", {"hosts": args.hosts, **result, "target_mb": TARGET_MB,
                                    "met": met, "load_average_before": load_before,
                                    "load_average_after": load_after}, args.output)
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
