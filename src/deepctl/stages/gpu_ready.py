"""Stage ``gpu-ready``: add-node waits until a new GPU node offers its GPUs to the scheduler.

Asked on the first control plane (``playbooks/gpu-node-ready.yml``): the GPU Operator builds
or loads the driver, then the container toolkit and the device plugin, before the node's
``nvidia.com/gpu`` (or MIG) resources appear. Enabled for a ``gpu: true`` host with the GPU
addon on.
"""

from __future__ import annotations

import json
from typing import Any

from deepctl.errors import HostKeyMismatch, PlaybookFailed
from deepctl.stages.context import StageContext
from deepctl.stages.stage import Stage, first_control_plane, named
from deepctl.templates import playbook_path

GPU_WAIT_S = 900  # the operator builds/loads the driver, then the toolkit and device plugin
GPU_POLL_S = 15
GPU_TASK_PREFIX = "Wait for nvidia.com/gpu allocatable"
GPU_RESOURCE_PREFIXES = ("nvidia.com/gpu", "nvidia.com/mig-")


def gpu_allocatable(node_json: str) -> dict[str, int]:
    """``kubectl get node -o json`` -> the node's allocatable NVIDIA resources (pure)."""
    try:
        allocatable = json.loads(node_json).get("status", {}).get("allocatable", {})
    except (ValueError, AttributeError):
        return {}
    out: dict[str, int] = {}
    for key, value in (allocatable or {}).items():
        if str(key).startswith(GPU_RESOURCE_PREFIXES):
            try:
                out[str(key)] = int(value)
            except (TypeError, ValueError):
                continue
    return out


def gpu_ready_vars(name: str) -> dict[str, Any]:
    return {"deepctl_node": name, "deepctl_retries": GPU_WAIT_S // GPU_POLL_S,
            "deepctl_delay": GPU_POLL_S}


def wait_for_gpus(ctx: StageContext, stage: str, name: str) -> dict[str, int]:
    """Wait until node ``name`` offers GPUs; raise with what to look at when it does not."""
    seen: list[str] = []

    def capture(event: dict[str, Any]) -> None:
        data = event.get("event_data") or {}
        if str(data.get("task", "")).startswith(GPU_TASK_PREFIX):
            res = data.get("res") or {}
            if isinstance(res, dict) and isinstance(res.get("stdout"), str):
                seen.append(res["stdout"])

    try:
        ctx.ansible.run(stage, str(playbook_path("gpu-node-ready.yml")), extravars=gpu_ready_vars(name),
                        on_event=capture)
    except PlaybookFailed as error:
        if isinstance(error, HostKeyMismatch):
            raise
        found = gpu_allocatable(seen[-1]) if seen else {}
        raise PlaybookFailed(
            f"{name} offers no NVIDIA GPUs to the scheduler after {GPU_WAIT_S // 60} min "
            f"(allocatable: {found or 'none'})", error.failures, error.stage,
            error.artifact_dir,
            hint=f"look at the GPU Operator's pods on {name} (kubectl get pods -A -o wide "
            f"--field-selector spec.nodeName={name}), then run the same add-node again: it "
            "resumes") from None
    found = gpu_allocatable(seen[-1]) if seen else {}
    ctx.record.log(f"{name}: allocatable " + ", ".join(f"{k}={v}" for k, v in sorted(found.items())))
    return found


def gpu_ready(names: tuple[str, ...]) -> Stage:
    """Wait for the GPUs of each new ``gpu: true`` host, one after the other."""

    def gpu_hosts(cluster: Any) -> list[str]:
        return [n for n in names if (h := cluster.host(n)) is not None and h.gpu]

    def run(ctx: StageContext) -> None:
        for name in gpu_hosts(ctx.cluster):
            wait_for_gpus(ctx, "gpu-ready", name)

    def enabled(cluster: Any) -> bool:
        return bool(gpu_hosts(cluster) and cluster.spec.addons.gpu.enabled)

    name = named(names)
    return Stage(
        "gpu-ready", f"Wait for {name}'s GPUs",
        lambda c: f"wait up to {GPU_WAIT_S // 60} min until {named(tuple(gpu_hosts(c)) or names)} "
        "offers nvidia.com/gpu (or MIG) resources, asked on the first control plane",
        run=run, enabled=enabled, hosts=first_control_plane, rerun=lambda ctx: "always checks")
