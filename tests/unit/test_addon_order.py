"""The addon stages' order: what must exist before each addon is installed."""

from __future__ import annotations

from deepctl.stages.sequences import DEPLOY as CATALOG
from deepctl.stages.sequences import deploy_stages as ordered


def test_the_gpu_operator_comes_after_the_prometheus_operator_crds() -> None:
    """kube-prometheus-stack (monitoring) installs the ServiceMonitor CRD; the GPU Operator
    creates the DCGM exporter's ServiceMonitor only when that CRD already exists."""
    names = [s.name for s in ordered()]
    assert names.index("monitoring") < names.index("gpu")
    assert "monitoring" in next(s for s in CATALOG if s.name == "gpu").after


def test_volumes_and_gpus_exist_before_the_addons_that_use_them() -> None:
    names = [s.name for s in ordered()]
    for user, needs in {"monitoring": ["storage"], "logging": ["storage", "monitoring"],
                        "slurm": ["gpu"], "jupyterhub": ["gpu", "storage"], "verify": ["gpu"]}.items():
        assert all(names.index(n) < names.index(user) for n in needs), user
