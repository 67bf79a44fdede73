"""The Slurm form of the multi-node all-reduce (pure parts): which partitions, the srun line,
and the verdict on what srun printed (the real 4-node Slurm output of NVIDIA DeepOps' docs)."""

from __future__ import annotations

from pathlib import Path

from deepctl.addons.slurm import Partition
from deepctl.clusterspec.verify import VerifyConfig
from deepctl.stages import verify_slurm as vs

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "verify"
SRUN = (FIXTURES / "all_reduce_perf-4node-32xA100-srun.txt").read_text()
A100 = Partition("a100", ("a100-x8",), True, 8, ("gpu1", "gpu2", "gpu3", "gpu4"))
ONE = Partition("l40s", ("l40s-x4",), False, 4, ("gpu5",))
CPU = Partition("cpu", ("cpu",), False, 0, ("cp1", "cp2"))
FIGURE = VerifyConfig.model_validate({"expect": {"multi-node": {"busBandwidth": 180}}})


def test_only_gpu_partitions_of_two_or_more_nodes_run_it() -> None:
    assert vs.all_reduce_partitions((A100, ONE, CPU)) == [A100]
    (item,) = vs.all_reduce_items([A100])
    assert item["srun"][:6] == ["srun", "--partition=a100", "--nodes=4", "--ntasks-per-node=8",
                                "--gres=gpu:8", "--mpi=pmix"]


def test_srun_output_is_judged_like_the_kubernetes_run() -> None:
    ok = vs.judge_all_reduce(A100, {"rc": 0, "stdout": SRUN, "stderr": ""}, FIGURE)
    assert (ok.node, ok.check, ok.verdict, ok.figure, ok.floor) == (
        "slurm partition a100", "nccl-slurm", "pass", 191.56, 162)
    measured = vs.judge_all_reduce(A100, {"rc": 0, "stdout": SRUN}, VerifyConfig())
    assert measured.verdict == "measured" and "no blame" in measured.why
    broken = vs.judge_all_reduce(A100, {"rc": 1, "stdout": "", "stderr":
                                        "srun: error: Unable to allocate resources"}, FIGURE)
    assert (broken.verdict, broken.why) == (
        "fail", "srun exit code 1: srun: error: Unable to allocate resources")
    assert vs.judge_all_reduce(A100, {"rc": None}, FIGURE).why == "the srun job did not run"
