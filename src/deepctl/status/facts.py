"""How many GPUs preflight saw on each host, from its facts files ``<state>/facts/<host>.json``.

A facts file is :meth:`deepctl.preflight.model.HostFacts.to_json`; the count is preflight's own
(:func:`deepctl.preflight.gpu.gpu_count`: ``nvidia-smi`` rows, else NVIDIA GPUs on the PCI bus).
Tolerant by design: a host without a facts file, or with one that cannot be read, is left out
("expected: unknown"); ``deepctl status`` never fails on facts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from deepctl.state import StateDir


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


def expected_gpus(state: StateDir, hosts: Iterable[str]) -> dict[str, int]:
    """GPUs per host as preflight saw them, for the hosts it has facts about."""
    found: dict[str, int] = {}
    for host in hosts:
        try:
            data = json.loads(state.facts_file(host).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            continue
        count = gpu_count(data)
        if count is not None:
            found[host] = count
    return found
