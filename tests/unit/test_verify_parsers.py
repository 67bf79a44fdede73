"""The parsers on real outputs (tests/fixtures/verify/README.md names each source)."""

from __future__ import annotations

from pathlib import Path

import pytest

from deepctl.verify.dcgm import DcgmParseError, parse_diag
from deepctl.verify.nccl import NcclParseError, parse_all_reduce

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "verify"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def test_dcgm_level_1_pass() -> None:
    report = parse_diag(fixture("dcgmi-diag-r1-pass.json"))
    assert report.passed and report.count("pass") == 9
    assert {r.category for r in report.results} == {"Deployment"}
    assert [r.test for r in report.results][:3] == ["Denylist", "NVML Library", "CUDA Main Library"]


def test_dcgm_3_1_with_nulls_between_tests_and_a_line_before_the_json() -> None:
    # DCGM 3.1.0 printed null between the Deployment tests (NVIDIA keeps this "real output")
    report = parse_diag(fixture("dcgmi-diag-dcgm3.1-8gpu-nulls.json"))
    assert report.passed and report.count("pass") == 9 + 8
    assert [r.gpus for r in report.results if r.test == "software"] == [str(i) for i in range(8)]
    assert next(r.gpus for r in report.results if r.test == "Inforom") == "0,1,2,3,4,5,6,7"


def test_dcgm_published_failing_example_names_the_failed_test_and_its_warning() -> None:
    report = parse_diag(fixture("dcgmi-diag-virtualclient-fail-example.json"))  # see README
    (failed,) = report.failed
    assert (failed.category, failed.test, failed.gpus) == ("Deployment", "CUDA Main Library", "")
    assert failed.message.startswith("Cannot open library libcuda.so: 'libcuda.so: cannot open "
                                     "shared object file: No such file or directory'")


def test_dcgm_level_2_pass() -> None:
    report = parse_diag(fixture("dcgmi-diag-r2-pass.json"))
    assert report.passed
    assert [r.category for r in report.results].count("Deployment") == 9
    assert {(r.test, r.status, r.gpus) for r in report.results if r.category != "Deployment"} \
        == {("PCIe", "pass", "0"), ("GPU Memory", "pass", "0")}


def test_dcgm_level_3_pass_with_a_skip() -> None:
    report = parse_diag(fixture("dcgmi-diag-r3-pass.json"))
    assert report.passed and report.count("skip") == 1 and report.count("pass") == 15
    assert [r.test for r in report.results if r.category == "Stress"] == \
        ["Targeted Stress", "Targeted Power", "Memory Bandwidth"]
    assert "11103.02 gigaflops" in next(r.message for r in report.results if r.test == "Diagnostic")


def test_dcgm_fail_names_the_test_gpu_and_warning() -> None:
    report = parse_diag(fixture("dcgmi-diag-r3-derived-fail.json"))  # derived: see README
    assert not report.passed
    (failed,) = report.failed
    assert (failed.category, failed.test, failed.gpus) == ("Stress", "Memory Bandwidth", "0")
    assert failed.message == "DERIVED FIXTURE: not a real dcgmi message"


def test_dcgm_4_layout_and_text_around_the_json() -> None:
    text = 'Successfully ran diagnostic.\n{"DCGM Diagnostic": {"test_categories": [{"category": ' \
        '"Hardware", "tests": [{"name": "memory", "results": [{"entity_id": 1, "status": "Fail",' \
        ' "warnings": [{"message": "bad row", "error_id": 3}]}]}]}]}}'
    (failed,) = parse_diag(text).failed
    assert (failed.test, failed.gpus, failed.message) == ("memory", "1", "bad row")


@pytest.mark.parametrize("text", ["", "not json", '{"other": {}}',
                                  '{"DCGM GPU Diagnostic": {"test_categories": []}}'])
def test_dcgm_unreadable(text: str) -> None:
    with pytest.raises(DcgmParseError):
        parse_diag(text)


def test_nccl_single_node_old_layout_with_an_nccl_info_line() -> None:
    result = parse_all_reduce(fixture("all_reduce_perf-1node-8xA100.txt"))
    assert result.hosts == ("localhost",) and result.gpus_per_host == {"localhost": 8}
    assert result.ranks[0].gpu == "A100-SXM4-40GB"
    assert result.peak_busbw == 235.26 and result.avg_busbw == 68.4048 and result.wrong == 0
    assert len(result.sizes) == 34 and result.sizes[-1].size == 8589934592


def test_nccl_multi_node() -> None:
    result = parse_all_reduce(fixture("all_reduce_perf-2node-16xH100.txt"))
    assert result.hosts == ("ztan-mig-235z", "ztan-mig-gq73")
    assert result.gpus_per_host == {"ztan-mig-235z": 8, "ztan-mig-gq73": 8}
    assert len(result.sizes) == 31 and result.sizes[-1].in_place_busbw == 337.35
    assert result.peak_busbw == 338.82 and result.avg_busbw == 70.742


def test_nccl_with_mpirun_prefixes_and_the_old_layout() -> None:
    """mpirun --tag-output prefixes; lines taken from the two real fixtures (an A100 rank line
    of nccl/issues/583's layout and the multi-node fixture's 128 MB row, re-laid out), to check
    prefix stripping and column detection: not a real output."""
    text = "\n".join([
        "[1,0]<stdout>:#   Rank  0 Pid 1821213 on AI-A100 device  0 [0x00] NVIDIA A100-SXM4-40GB",
        "[1,0]<stdout>:#       size         count    type   redop     time   algbw   busbw  error"
        "     time   algbw   busbw  error",
        "[1,0]<stdout>:   134217728      33554432   float     sum   1652.2   81.24  152.32  0e+00"
        "   1636.7   82.01  153.76  0e+00",
    ])
    result = parse_all_reduce(text)
    assert result.hosts == ("AI-A100",) and result.peak_busbw == 153.76


def test_nccl_unfinished_output_is_an_error() -> None:
    head = fixture("all_reduce_perf-1node-8xA100.txt").split("hostname:3442:3442")[0]
    with pytest.raises(NcclParseError, match="no result rows"):
        parse_all_reduce(head)
