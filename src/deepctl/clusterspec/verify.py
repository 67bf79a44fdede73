"""``spec.verify``: how deep ``deepctl verify`` (and deploy's last stage) looks, and what
figures it expects (docs/verify.md)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from deepctl.clusterspec.base import SpecModel

VerifyLevel = Literal["quick", "standard", "full"]
LEVELS: tuple[VerifyLevel, ...] = ("quick", "standard", "full")
# "MODEL" or "MODEL/GPUS": a model of the figures table (H100-SXM) or a GPU Feature Discovery
# product label value (NVIDIA-H100-80GB-HBM3), optionally with the GPU count of the node.
EXPECT_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[1-9][0-9]*)?\Z")
DEFAULT_TOLERANCE = 0.10


class ExpectedFigure(SpecModel):
    """An expected figure that wins over deepctl's table (docs/verify.md)."""

    bus_bandwidth: float = Field(
        gt=0, description="NCCL all-reduce bus bandwidth (GB/s, nccl-tests busbw): single-node, "
        'or across nodes under the key "multi-node".')
    tolerance: float | None = Field(
        None, gt=0, lt=1, description="Fraction below the figure still passing; default: "
        "spec.verify.tolerance.")


class VerifyConfig(SpecModel):
    """``deepctl verify``: checks after a deploy, and on demand."""

    level: VerifyLevel = Field(
        "quick", description="Level deploy's verify stage runs at: quick (nodes Ready, GPUs, "
        "CUDA smoke), standard (+ DCGM level 2, single-node NCCL), full (+ DCGM level 3, "
        "multi-node NCCL).")
    tolerance: float = Field(
        DEFAULT_TOLERANCE, gt=0, lt=1,
        description="Default fraction below an expected figure that still passes.")
    expect: dict[str, ExpectedFigure] = Field(
        default_factory=dict,
        description='Expected figures by "MODEL" or "MODEL/GPUS" (e.g. H100-SXM/8 or '
        "NVIDIA-H100-80GB-HBM3/8); they win over deepctl's table. The key \"multi-node\" is "
        "the multi-node all-reduce figure (level full; without it no blame).")
    groups: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Network or rack groups (name: host names): at level full, a multi-node "
        "all-reduce also runs within each group.")

    @field_validator("expect")
    @classmethod
    def _expect_keys(cls, expect: dict[str, ExpectedFigure]) -> dict[str, ExpectedFigure]:
        for key in expect:
            if not EXPECT_KEY.match(key):
                raise ValueError(f"{key!r} is not MODEL or MODEL/GPUS (e.g. H100-SXM/8)")
        return expect
