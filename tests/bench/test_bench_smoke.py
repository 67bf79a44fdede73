"""Smoke-run every benchmark script on a tiny size so they cannot rot.

Benchmarks never pass or fail on speed here; they only have to run and report.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"


def run_bench(*argv: str) -> str:
    result = subprocess.run(
        [sys.executable, str(BENCH / argv[0]), *argv[1:]],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_startup_benchmark_reports_the_ratio() -> None:
    out = run_bench("startup.py", "--repeat", "1")
    assert "deepctl --help" in out and "--help / baseline" in out


def test_spec_scale_benchmark_reports_each_size() -> None:
    out = run_bench("spec_scale.py", "--sizes", "10,20", "--repeat", "1")
    assert "20 hosts / 10 hosts" in out


def test_import_scale_benchmark_round_trips_and_reports_each_size() -> None:
    out = run_bench("import_scale.py", "--sizes", "10,20", "--repeat", "1")
    assert "import of 20 hosts:" in out and "writer: time ~ hosts^" in out
    assert out.count("  yes") == 2  # import(render(spec)) == spec at both sizes


@pytest.mark.skipif(os.geteuid() != 0, reason="preflight benchmark starts sshd test hosts (root)")
def test_preflight_benchmark_runs_on_two_hosts(tmp_path: Path) -> None:
    out = run_bench("preflight.py", "--hosts", "1,2", "--runs", "1",
                    "--output", str(tmp_path / "p.json"))
    assert "2" in out


needs_root = pytest.mark.skipif(os.geteuid() != 0,
                                reason="the Ansible benchmarks start sshd test hosts (root)")


@needs_root
def test_runner_overhead_benchmark_runs_each_way_and_replays(tmp_path: Path) -> None:
    out = run_bench("runner_overhead.py", "--hosts", "1", "--tasks", "2", "--runs", "1",
                    "--events", "2000", "--output", str(tmp_path / "r.json"))
    for way in ("ansible-playbook", "ansible-runner alone", "deepctl, plain lines",
                "deepctl, live view", "plain lines (no terminal)"):
        assert way in out
    shm_is_tmpfs = any(line.split()[1:3] == ["/dev/shm", "tmpfs"]
                       for line in Path("/proc/self/mounts").read_text().splitlines())
    assert ("deepctl, state on tmpfs" in out) == shm_is_tmpfs
    assert "events/s (target >= 20,000" in out and (tmp_path / "r.json").exists()


@needs_root
def test_ansible_tuning_benchmark_runs_stock_deepctl_and_mitogen(tmp_path: Path) -> None:
    out = run_bench("ansible_tuning.py", "--hosts", "2", "--tasks", "2", "--runs", "1",
                    "--output", str(tmp_path / "t.json"))
    assert "stock (Kubespray's ansible.cfg)" in out and "deepctl + mitogen_linear" in out
    assert "target mitogen_2x:" in out and (tmp_path / "t.json").exists()


@needs_root
def test_memory_benchmark_measures_a_stand_in_deploy(tmp_path: Path) -> None:
    out = run_bench("memory.py", "--hosts", "2", "--output", str(tmp_path / "m.json"))
    assert "deepctl process peak RSS (VmHWM)" in out and (tmp_path / "m.json").exists()


def test_live_grouping_benchmark_reports_lines_per_size() -> None:
    out = run_bench("live_grouping.py", "--sizes", "10,20", "--repeat", "1")
    assert "lines printed" in out and "target (same lines at every size" in out


def test_status_scale_benchmark_runs_against_its_stand_in_api() -> None:
    out = run_bench("status_scale.py", "--sizes", "10,30", "--repeat", "1")
    assert "30 nodes: human" in out


@pytest.mark.skipif(not (Path(os.environ.get("DEEPCTL_TEST_KUBESPRAY", "/nonexistent"))
                         / "roles" / "validate_inventory").is_dir(),
                    reason="validate_scale.py needs the real Kubespray tree (DEEPCTL_TEST_KUBESPRAY)")
def test_validate_scale_benchmark_reports_each_size() -> None:
    out = run_bench("validate_scale.py", "--sizes", "10,20", "--repeat", "1")
    assert "20 hosts:" in out and "target <= 60 s" in out


@pytest.mark.skipif(not (Path(os.environ.get("DEEPCTL_TEST_KUBESPRAY", "/nonexistent"))
                         / "roles" / "kubespray_defaults").is_dir(),
                    reason="artifacts_list_scale.py needs the real Kubespray tree (DEEPCTL_TEST_KUBESPRAY)")
def test_artifacts_list_scale_benchmark_reports_each_size() -> None:
    out = run_bench("artifacts_list_scale.py", "--sizes", "10,20", "--repeat", "1")
    assert "20 hosts:" in out and "target <= 5 s" in out


@needs_root
def test_executor_latency_benchmark_runs_each_way_through_the_proxy(tmp_path: Path) -> None:
    out = run_bench("executor_latency.py", "--hosts", "1", "--runs", "1", "--rtt-ms", "10",
                    "--output", str(tmp_path / "e.json"))
    for way in ("local ", "local+delay", "executor "):
        assert way in out
    assert "executor / local = " in out and "sent to the executor: first run tree" in out
    assert (tmp_path / "e.json").exists()
