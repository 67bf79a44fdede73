"""Kubespray variables the GPU addon needs, so that Kubespray re-runs keep the NVIDIA runtime.

The problem (kubespray #12277): the GPU Operator's container toolkit adds an ``nvidia``
runtime to containerd's config, but every Kubespray run (``add-node``, upgrades) re-renders
``/etc/containerd/config.toml`` from its template and drops it. deepctl makes Kubespray itself
declare the runtime through its own variable ``containerd_additional_runtimes`` (role
container-engine/containerd), pointing at the binary the toolkit installs under
``/usr/local/nvidia/toolkit``. The config Kubespray writes therefore always has the runtime,
whatever the order of Kubespray and GPU Operator runs; the toolkit is told not to make it the
default runtime (see templates/addons/gpu/values.yaml.j2), so both write the same thing.
"""

from __future__ import annotations

from typing import Any

from deepctl.clusterspec.models import Cluster

TOOLKIT_INSTALL_DIR = "/usr/local/nvidia"
NVIDIA_RUNTIME_BINARY = f"{TOOLKIT_INSTALL_DIR}/toolkit/nvidia-container-runtime"


def nvidia_runtime() -> dict[str, Any]:
    """The ``nvidia`` entry of ``containerd_additional_runtimes`` (runc v2 shim, toolkit binary)."""
    return {
        "name": "nvidia",
        "type": "io.containerd.runc.v2",
        "base_runtime_spec": "cri-base.json",
        "options": {
            "BinaryName": NVIDIA_RUNTIME_BINARY,
            "SystemdCgroup": "{{ containerd_use_systemd_cgroup | ternary('true', 'false') }}",
        },
    }


def gpu_kubespray_vars(cluster: Cluster) -> dict[str, Any]:
    """group_vars to add when the GPU addon is on with containerd (else nothing)."""
    if not cluster.spec.addons.gpu.enabled or cluster.spec.kubernetes.container_runtime != "containerd":
        return {}
    return {"containerd_additional_runtimes": [nvidia_runtime()]}
