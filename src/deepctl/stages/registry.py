"""Stage name -> implementation. Catalog stages without one are reported, not run."""

from __future__ import annotations

from deepctl.stages.addons import addon_stage_factories
from deepctl.stages.base import NotImplementedStage, Stage
from deepctl.stages.inventory import InventoryStage
from deepctl.stages.kubeconfig import KubeconfigStage
from deepctl.stages.kubespray import KubesprayStage
from deepctl.stages.preflight import PreflightStage
from deepctl.stages.verify import VerifyStage

IMPLEMENTED: dict[str, type[Stage]] = {
    "preflight": PreflightStage,
    "inventory": InventoryStage,
    "kubespray": KubesprayStage,
    "kubeconfig": KubeconfigStage,
    "verify": VerifyStage,
}
IMPLEMENTED.update(addon_stage_factories())  # storage, gpu, monitoring, logging, slurm, jupyterhub


def implementation(name: str) -> Stage:
    factory = IMPLEMENTED.get(name)
    return factory() if factory is not None else NotImplementedStage(name)
