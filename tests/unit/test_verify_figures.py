"""Expected figures: the table (each figure sourced), spec.verify.expect overrides, verdicts."""

from __future__ import annotations

import pytest

from deepctl.clusterspec.verify import VerifyConfig
from deepctl.verify import figures as f


def test_every_figure_names_a_source_and_a_tolerance() -> None:
    assert {x.model for x in f.table()} >= {"H100-SXM", "H200-SXM", "A100-SXM"}
    for figure in f.table():
        assert figure.source.count("https://") >= 1, figure
        assert 0 < figure.tolerance < 1 and figure.bus_bandwidth_gbps > 0


def test_a_known_model_is_judged_against_its_band() -> None:
    h100 = f.expected("NVIDIA-H100-80GB-HBM3", 8, VerifyConfig())
    assert h100 is not None and (h100.model, h100.bus_bandwidth_gbps, h100.floor) == \
        ("H100-SXM", 480, 432)
    assert f.judge(470.73, h100).verdict == "pass"
    fail = f.judge(250.0, h100)
    assert fail.verdict == "fail"
    assert fail.why == "250 GB/s is below 432 GB/s (480 GB/s - 10%, H100-SXM x8)"


def test_unknown_model_or_count_is_measured_never_failed() -> None:
    assert f.expected("NVIDIA-L40S", 8, VerifyConfig()) is None
    assert f.expected("NVIDIA-H100-80GB-HBM3", 4, VerifyConfig()) is None  # no figure for x4
    judged = f.judge(12.5, None)
    assert judged.verdict == "measured" and "spec.verify.expect" in judged.why


@pytest.mark.parametrize("product", ["NVIDIA-B200", "NVIDIA-L40S", "NVIDIA-A10"])
@pytest.mark.parametrize("gpus", [1, 2, 4, 8])
def test_b200_l40s_and_a10_have_no_citable_figure_so_are_measured(product: str, gpus: int) -> None:
    # docs/verify.md says why (searched, nothing citable): measured, never failed
    assert f.expected(product, gpus, VerifyConfig()) is None
    assert not {"B200", "B200-SXM", "L40S", "A10"} & {x.model for x in f.table()}


@pytest.mark.parametrize("key", ["H100-SXM/8", "H100-SXM", "NVIDIA-H100-80GB-HBM3/8",
                                 "NVIDIA-H100-80GB-HBM3"])
def test_spec_expect_wins_by_model_or_product_with_or_without_count(key: str) -> None:
    config = VerifyConfig.model_validate(
        {"tolerance": 0.2, "expect": {key: {"busBandwidth": 400}}})
    figure = f.expected("NVIDIA-H100-80GB-HBM3", 8, config)
    assert figure is not None
    assert (figure.bus_bandwidth_gbps, figure.tolerance, figure.source) == \
        (400, 0.2, "spec.verify.expect")


def test_spec_expect_gives_an_unknown_model_a_figure() -> None:
    config = VerifyConfig.model_validate(
        {"expect": {"NVIDIA-L40S/4": {"busBandwidth": 20, "tolerance": 0.3}}})
    figure = f.expected("NVIDIA-L40S", 4, config)
    assert figure is not None and figure.floor == 14
    assert f.expected("NVIDIA-L40S", 8, config) is None


def test_bad_expect_key_is_a_spec_error() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="MODEL or MODEL/GPUS"):
        VerifyConfig.model_validate({"expect": {"H100 SXM/x8": {"busBandwidth": 1}}})


def test_verify_groups_must_name_gpu_hosts_of_the_spec() -> None:
    from deepctl.clusterspec.models import Cluster
    from deepctl.clusterspec.rules import check

    cluster = Cluster.model_validate({"metadata": {"name": "lab"}, "spec": {
        "hosts": [{"name": "cp1", "address": "10.0.0.1", "roles": ["control-plane", "etcd"]},
                  {"name": "gpu1", "address": "10.0.0.2", "roles": ["worker"], "gpu": True}],
        "verify": {"groups": {"rack-a": ["gpu1", "gpu2", "cp1"]}}}})
    found = [(".".join(map(str, f.path)), f.message, f.severity) for f in check(cluster)
             if f.path[:2] == ("spec", "verify")]
    assert found == [
        ("spec.verify.groups.rack-a.1", "'gpu2' is not a host of this spec; did you mean 'gpu1'?",
         "error"),
        ("spec.verify.groups.rack-a.2", "'cp1' has no GPUs (gpu: true): the group's multi-node "
         "all-reduce runs on GPU hosts only", "warning")]
