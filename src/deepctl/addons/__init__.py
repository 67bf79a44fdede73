"""The post-install addons (GPU Operator, monitoring, logging, storage, Slurm, JupyterHub).

Data (:mod:`.registry`), pure values rendering (:mod:`.values`), pure Kubernetes manifests
(:mod:`.manifests`), generated secrets kept in the state directory (:mod:`.secrets`), the
Kubespray variables the GPU addon needs (:mod:`.containerd`) and the playbook run the engine
executes (:mod:`.playbook`).
"""

from deepctl.addons.registry import ADDON_NAMES, ADDONS, Addon, Chart, Release, get_addon
from deepctl.addons.values import AddonContext, addon_context, render_values

__all__ = [
    "ADDONS",
    "ADDON_NAMES",
    "Addon",
    "AddonContext",
    "Chart",
    "Release",
    "addon_context",
    "get_addon",
    "render_values",
]
