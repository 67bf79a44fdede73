"""How many GPUs preflight saw on each host, from its facts files ``<state>/facts/<host>.json``.

A facts file is :meth:`deepctl.preflight.model.HostFacts.to_json`; the count is preflight's own
(:func:`deepctl.preflight.gpu.gpu_count`: ``nvidia-smi`` rows, else NVIDIA GPUs on the PCI bus).
Saved by preflight, read by status, verify and the Slurm addon. Tolerant by design: a host
without a facts file, or with one that cannot be read, is left out ("expected: unknown");
``deepctl status`` never fails on facts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from deepctl.state import StateDir

if TYPE_CHECKING:
    from deepctl.preflight.gpu import GpuInventory


def gpu_count(facts: Any) -> int | None:
    """The GPU count in one host's facts document, or None when it says nothing about GPUs."""
    if not isinstance(facts, dict) or not ("gpus" in facts or "pci_gpus" in facts):
        return None
    from deepctl.preflight.gpu import gpu_count as preflight_gpu_count
    from deepctl.preflight.model import HostFacts

    try:
        return preflight_gpu_count(HostFacts.from_json(facts))
    except (TypeError, ValueError, AttributeError):
        gpus = facts.get("gpus")
        return len(gpus) if isinstance(gpus, list) else None


def _load(state: StateDir, host: str) -> Any:
    try:
        return json.loads(state.facts_file(host).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def expected_gpus(state: StateDir, hosts: Iterable[str]) -> dict[str, int]:
    """GPUs per host as preflight saw them, for the hosts it has facts about."""
    found: dict[str, int] = {}
    for host in hosts:
        count = gpu_count(_load(state, host))
        if count is not None:
            found[host] = count
    return found


def gpu_inventories(state: StateDir, hosts: Iterable[str]) -> dict[str, GpuInventory]:
    """GPU count and model per host as preflight saw them (hosts without usable facts left out)."""
    from deepctl.preflight.gpu import gpu_inventory
    from deepctl.preflight.model import HostFacts

    found: dict[str, GpuInventory] = {}
    for host in hosts:
        data = _load(state, host)
        if gpu_count(data) is None:
            continue
        try:
            found[host] = gpu_inventory(HostFacts.from_json(data))
        except (TypeError, ValueError, AttributeError):
            continue
    return found


def os_releases(state: StateDir, hosts: Iterable[str]) -> dict[str, dict[str, str]]:
    """Each host's ``/etc/os-release`` as preflight saw it (hosts without one left out)."""
    found: dict[str, dict[str, str]] = {}
    for host in hosts:
        data = _load(state, host)
        release = data.get("os_release") if isinstance(data, dict) else None
        if isinstance(release, dict) and release.get("ID"):
            found[host] = {str(k): str(v) for k, v in release.items()}
    return found
