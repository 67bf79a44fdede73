"""What add-node runs for one new host: Kubespray's procedure, then node-scoped checks.

The procedure follows Kubespray v2.31.0's ``docs/operations/nodes.md``:

- a worker: ``playbooks/facts.yml`` on every host (``scale.yml --limit`` needs the facts of
  all of them), then ``scale.yml --limit NEW``; the other hosts are not reconfigured;
- a control plane: ``cluster.yml`` on every host ("You can NOT use scale.yml for that"); the
  new host comes last in ``kube_control_plane`` because add-node appends it to the spec.
  The nginx-proxy/haproxy restart that document asks for is not needed with v2.31.0: their
  static pods carry a checksum of their configuration, so kubelet restarts them itself.

Node labels and taints reach the node through Kubespray (``node_labels``/``node_taints`` in
the inventory). A ``gpu: true`` host, when the GPU addon is on, is then waited for until it
offers ``nvidia.com/gpu`` (or MIG) resources, asked on the first control plane.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from deepctl.engine.playbooks import HostKeyMismatch, PlaybookFailed
from deepctl.stages.base import StageContext

GPU_WAIT_S = 900  # the operator builds/loads the driver, then the toolkit and device plugin
GPU_POLL_S = 15
GPU_TASK_PREFIX = "Wait for nvidia.com/gpu allocatable"
GPU_RESOURCE_PREFIXES = ("nvidia.com/gpu", "nvidia.com/mig-")


@dataclass(frozen=True)
class PlaybookStep:
    playbook: str
    limit: str | None = None
    extravars: dict[str, Any] = field(default_factory=dict)


def add_node_steps(name: str, roles: Sequence[str]) -> list[PlaybookStep]:
    """The Kubespray playbooks that add host ``name`` with ``roles`` (pure)."""
    if {"control-plane", "etcd"} & set(roles):
        return [PlaybookStep("cluster.yml")]
    return [PlaybookStep("playbooks/facts.yml"), PlaybookStep("scale.yml", limit=name)]


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


def _playbook(name: str) -> str:
    return str(Path(str(resources.files("deepctl.data") / "playbooks" / name)))


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
        ctx.ansible.run(stage, _playbook("gpu-node-ready.yml"), extravars=gpu_ready_vars(name),
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
