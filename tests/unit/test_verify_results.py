"""Findings from real outputs: per node and check the figure, the expected figure, the
verdict and why; grouped lines at scale; what fell since the last run."""

from __future__ import annotations

from pathlib import Path

from deepctl.clusterspec.verify import VerifyConfig
from deepctl.stages import verify_jobs
from deepctl.verify import results as r

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "verify"
SINGLE = (FIXTURES / "all_reduce_perf-1node-8xA100.txt").read_text()
A100 = "NVIDIA-A100-SXM4-40GB"
MULTI = (FIXTURES / "all_reduce_perf-2node-16xH100.txt").read_text()
DCGM_OK = (FIXTURES / "dcgmi-diag-r3-pass.json").read_text()
DCGM_FAIL = (FIXTURES / "dcgmi-diag-r3-derived-fail.json").read_text()


def test_nccl_node_against_the_a100_figure() -> None:
    found = r.judge_nccl_node("gpu1", A100, 8, SINGLE, VerifyConfig())
    assert (found.verdict, found.figure, found.expected, found.unit, found.floor) == \
        ("pass", 235.26, 231, "GB/s", 207.9)
    strict = VerifyConfig.model_validate({"expect": {"A100-SXM/8": {"busBandwidth": 300}}})
    slow = r.judge_nccl_node("gpu1", A100, 8, SINGLE, strict)
    assert slow.verdict == "fail"
    assert slow.why == "235.26 GB/s is below 270 GB/s (300 GB/s - 10%, A100-SXM x8)"


def test_unknown_model_is_measured_and_an_empty_log_fails_with_the_pod() -> None:
    found = r.judge_nccl_node("gpu1", "NVIDIA-L40S", 8, SINGLE, VerifyConfig())
    assert (found.verdict, found.figure, found.expected) == ("measured", 235.26, None)
    empty = r.judge_nccl_node("gpu1", "NVIDIA-L40S", 8, "", VerifyConfig(),
                              "Pending: 0/4 nodes are available: 4 Insufficient nvidia.com/gpu")
    assert empty.verdict == "fail" and empty.why.endswith(
        "; pod Pending: 0/4 nodes are available: 4 Insufficient nvidia.com/gpu")


def test_dcgm_pass_and_fail() -> None:
    ok = r.judge_dcgm("gpu1", "dcgm-3", DCGM_OK)
    assert (ok.verdict, ok.why) == ("pass", "15 tests passed (1 skip)")
    bad = r.judge_dcgm("gpu2", "dcgm-3", DCGM_FAIL)
    assert bad.verdict == "fail"
    assert bad.why == "failed: Memory Bandwidth on GPU 0: DERIVED FIXTURE: not a real dcgmi message"


def test_multi_node_is_measured_across_the_group() -> None:
    found = r.judge_nccl_multi("all", ["gpu1", "gpu2"], MULTI)
    assert (found.node, found.verdict, found.figure) == ("group all", "measured", 338.82)


def test_the_same_finding_on_many_nodes_is_one_line() -> None:
    findings = [r.Finding(f"gpu{i:03d}", "dcgm-2", "pass", "9 tests passed") for i in range(1, 201)]
    findings.append(r.Finding("gpu007", "nccl-node", "fail", "100 GB/s is below 432 GB/s"))
    assert r.lines(findings) == [
        "pass     dcgm-2     200 hosts: gpu[001-200]: 9 tests passed",
        "fail     nccl-node  gpu007: 100 GB/s is below 432 GB/s"]


def test_compare_names_a_node_whose_bandwidth_fell_beyond_the_tolerance() -> None:
    before = [{"node": "gpu1", "check": "nccl-node", "verdict": "pass", "figure": 470.0},
              {"node": "gpu2", "check": "nccl-node", "verdict": "pass", "figure": 470.0},
              {"node": "gpu3", "check": "dcgm-2", "verdict": "pass", "figure": None}]
    now = [r.Finding("gpu1", "nccl-node", "pass", "", 440.0),  # -6%: within 10%
           r.Finding("gpu2", "nccl-node", "fail", "", 300.0),  # -36%
           r.Finding("gpu3", "dcgm-2", "fail", "failed: PCIe on GPU 1")]
    assert r.compare(before, now, 0.10) == [
        "gpu2 nccl-node: 300 GB/s, was 470 GB/s (-36%)",
        "gpu3 dcgm-2: failed, passed last time (failed: PCIe on GPU 1)"]


def test_job_items_and_judge_read_the_logs_each_job_left() -> None:
    jobs = [{"kind": "Job", "metadata": {"name": "deepctl-dcgm-gpu1", "labels": {
                "deepctl.io/check": "dcgm-3", "deepctl.io/node": "gpu1"}}, "spec": {}},
            {"kind": "Job", "metadata": {"name": "deepctl-nccl-gpu1", "labels": {
                "deepctl.io/check": "nccl-node", "deepctl.io/node": "gpu1"}}, "spec": {}},
            {"kind": "Service", "metadata": {"name": "x"}},
            {"kind": "Job", "metadata": {"name": "deepctl-nccl-mn-all", "labels": {
                "deepctl.io/check": "nccl-multi", "deepctl.io/nccl-group": "all"}},
             "spec": {"completionMode": "Indexed"}}]
    items = verify_jobs.job_items(jobs)
    assert [i["logs"] for i in items] == [
        "batch.kubernetes.io/job-name=deepctl-dcgm-gpu1",
        "batch.kubernetes.io/job-name=deepctl-nccl-gpu1",
        "batch.kubernetes.io/job-name=deepctl-nccl-mn-all,batch.kubernetes.io/job-completion-index=0"]
    logs = {"deepctl-dcgm-gpu1": DCGM_OK, "deepctl-nccl-gpu1": SINGLE, "deepctl-nccl-mn-all": MULTI}
    found = verify_jobs.judge(items, "", logs, {"gpu1": 8, "gpu2": 8},
                              {"gpu1": A100}, {"all": ["gpu1", "gpu2"]},
                              VerifyConfig())
    assert [(f.node, f.check, f.verdict) for f in found] == [
        ("gpu1", "dcgm-3", "pass"), ("gpu1", "nccl-node", "pass"), ("group all", "nccl-multi", "measured")]


def test_cleanup_commands_after_a_cancel() -> None:
    from deepctl.stages.verify_cleanup import cleanup_commands

    assert cleanup_commands("/opt/bin", "app.kubernetes.io/name=deepctl-verify", ["gpu1"]) == [
        "KUBECONFIG=/etc/kubernetes/admin.conf /opt/bin/kubectl delete jobs,services,secrets "
        "--namespace deepctl-verify --selector app.kubernetes.io/name=deepctl-verify "
        "--ignore-not-found --wait=false --cascade=background",
        "KUBECONFIG=/etc/kubernetes/admin.conf /opt/bin/kubectl uncordon gpu1"]


def test_a_failed_verify_carries_every_finding_for_json() -> None:
    from deepctl.errors import ExitCode
    from deepctl.stages.verify import VerifyFailed

    found = [r.Finding("gpu1", "dcgm-2", "pass", "11 tests passed"),
             r.Finding("gpu2", "nccl-node", "fail", "too slow", 100.0, 480.0, "GB/s", 432.0)]
    error = VerifyFailed(found, "verify found problems")
    assert error.exit_code == ExitCode.FAILED == 1
    assert [f["node"] for f in error.details()["findings"]] == ["gpu1", "gpu2"]
    assert error.details()["findings"][1]["floor"] == 432.0
