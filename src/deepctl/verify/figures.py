"""Expected figures per GPU model and count (``src/deepctl/data/gpu-figures.yml``, each
with its published source), ``spec.verify.expect`` overrides, and the verdict on a measure.

A node whose model or GPU count has no figure is measured and reported (verdict
``measured``), never failed for lack of a figure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

import yaml

from deepctl.clusterspec.verify import ExpectedFigure, VerifyConfig

FIGURES_FILE = "gpu-figures.yml"
# spec.verify.expect's key of the multi-node all-reduce figure (docs/verify.md: the fabric
# decides it, so deepctl has no table for it and never derives one from the GPUs)
MULTI_NODE = "multi-node"
Verdict = Literal["pass", "fail", "measured"]


@dataclass(frozen=True)
class Figure:
    """An expected single-node all-reduce bus bandwidth, its tolerance and where it is from."""

    model: str
    gpus: int
    bus_bandwidth_gbps: float
    tolerance: float
    source: str
    products: tuple[str, ...] = ()

    @property
    def floor(self) -> float:
        """The lowest passing measure."""
        return round(self.bus_bandwidth_gbps * (1 - self.tolerance), 2)


@cache
def table() -> tuple[Figure, ...]:
    """deepctl's figures (package data)."""
    text = resources.files("deepctl.data").joinpath(FIGURES_FILE).read_text(encoding="utf-8")
    return tuple(
        Figure(str(f["model"]), int(f["gpus"]), float(f["busBandwidthGBps"]),
               float(f["tolerance"]), " ".join(str(f["source"]).split()),
               tuple(str(p) for p in f.get("products", [])))
        for f in yaml.safe_load(text)["figures"])


def model_of(product: str) -> str:
    """The table's model for a GPU Feature Discovery product label (itself when unknown)."""
    return next((f.model for f in table() if product in f.products), product)


def _override(config: VerifyConfig, names: tuple[str, ...], gpus: int) -> ExpectedFigure | None:
    for name in names:
        for key in (f"{name}/{gpus}", name):
            if key in config.expect:
                return config.expect[key]
    return None


def expected(product: str, gpus: int, config: VerifyConfig) -> Figure | None:
    """The figure a node with ``gpus`` GPUs of ``product`` should reach, or None (unknown).

    ``spec.verify.expect`` wins (by product label or model, with or without the count).
    """
    model = model_of(product)
    names = (product, model) if model != product else (product,)
    override = _override(config, names, gpus)
    if override is not None:
        return Figure(model, gpus, override.bus_bandwidth,
                      override.tolerance or config.tolerance, "spec.verify.expect")
    return next((f for f in table() if f.model == model and f.gpus == gpus), None)


def multi_node(config: VerifyConfig, nodes: int) -> Figure | None:
    """The multi-node all-reduce figure of ``spec.verify.expect["multi-node"]`` (for any
    subset of 2 or more nodes: busbw is normalised for the rank count), or None: measured
    only, and no blame."""
    given = config.expect.get(MULTI_NODE)
    if given is None:
        return None
    return Figure(MULTI_NODE, nodes, given.bus_bandwidth, given.tolerance or config.tolerance,
                  f'spec.verify.expect["{MULTI_NODE}"]')


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    why: str


def judge(measured: float, figure: Figure | None) -> Judgement:
    """The verdict on a measured bus bandwidth (GB/s) against its expected figure."""
    if figure is None:
        return Judgement("measured", "no expected figure for this GPU model and count; "
                         "measured only (set one in spec.verify.expect)")
    pct = round(figure.tolerance * 100)
    if measured < figure.floor:
        return Judgement("fail", f"{measured:g} GB/s is below {figure.floor:g} GB/s "
                         f"({figure.bus_bandwidth_gbps:g} GB/s - {pct}%, {figure.model} x{figure.gpus})")
    return Judgement("pass", f"{measured:g} GB/s within {pct}% of {figure.bus_bandwidth_gbps:g} GB/s "
                     f"or above ({figure.model} x{figure.gpus})")


def sources() -> Mapping[str, str]:
    """``{"MODEL xN": source}`` of the table, for docs and reports."""
    return {f"{f.model} x{f.gpus}": f.source for f in table()}
