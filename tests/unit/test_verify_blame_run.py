"""The blame rounds as verify runs them on the cluster (pure parts): the subsets of each
round, their Jobs valid against the Kubernetes API schemas, the multi-node figure."""

from __future__ import annotations

import kubernetes_validate
import yaml

from deepctl.clusterspec.verify import VerifyConfig
from deepctl.stages import verify_blame as vb
from deepctl.verify import figures
from deepctl.verify import results as r
from tests.unit.test_verify_manifests import KEY, gpu_cluster, k8s_version
from tests.unit.test_verify_results import MULTI


def test_a_single_suspect_runs_with_a_cleared_node_else_alone() -> None:
    parts = vb.subsets(3, [("gpu3",), ("gpu4",)], ["gpu1", "gpu2"])
    assert [(p.group, p.suspects, p.nodes) for p in parts] == [
        ("blame-3-0", ("gpu3",), ("gpu3", "gpu1")), ("blame-3-1", ("gpu4",), ("gpu4", "gpu1"))]
    alone = vb.subsets(2, [("gpu1",), ("gpu2", "gpu3")], [])
    assert [p.nodes for p in alone] == [("gpu1",), ("gpu2", "gpu3")]


def test_each_rounds_jobs_are_valid_and_pinned_to_their_subset() -> None:
    cluster = gpu_cluster()
    parts = vb.subsets(2, [("gpu1", "gpu2"), ("gpu3", "gpu4")], [])
    texts = vb.round_texts(cluster, parts, {f"gpu{i}": 8 for i in range(1, 5)}, KEY)
    objects = [d for t in texts for d in yaml.safe_load_all(t) if d]
    for obj in objects:
        kubernetes_validate.validate(obj, k8s_version(cluster), strict=True)
    jobs = [o for o in objects if o["kind"] == "Job"]
    assert [j["metadata"]["name"] for j in jobs] == ["deepctl-nccl-mn-blame-2-0",
                                                     "deepctl-nccl-mn-blame-2-1"]
    pinned = [j["spec"]["template"]["spec"]["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0][
        "matchExpressions"][0]["values"] for j in jobs]
    assert pinned == [["gpu1", "gpu2"], ["gpu3", "gpu4"]]
    assert [j["spec"]["completions"] for j in jobs] == [2, 2]
    assert [o["kind"] for o in objects].count("Secret") == 1  # the launcher's key, per round


def test_the_multi_node_figure_comes_from_spec_verify_expect_only() -> None:
    assert figures.multi_node(VerifyConfig(), 4) is None
    config = VerifyConfig.model_validate({"expect": {"multi-node": {"busBandwidth": 300}}})
    figure = figures.multi_node(config, 4)
    assert figure is not None and (figure.bus_bandwidth_gbps, figure.floor) == (300, 270)
    found = r.judge_nccl_multi("all", ["gpu1", "gpu2"], MULTI, figure=figure)
    assert (found.verdict, found.figure, found.floor) == ("pass", 338.82, 270)
    slow = figures.multi_node(VerifyConfig.model_validate(
        {"expect": {"multi-node": {"busBandwidth": 400}}}), 2)
    assert r.judge_nccl_multi("all", ["gpu1", "gpu2"], MULTI, figure=slow).verdict == "fail"
    plain = r.judge_nccl_multi("all", ["gpu1", "gpu2"], MULTI)
    assert plain.verdict == "measured" and "measured only, no blame" in plain.why
