"""``deepctl preflight``: check every host before touching any.

:func:`run_preflight` connects to all hosts concurrently, runs one facts script per host,
saves the facts under ``STATE/facts/`` and judges them with pure checks. It never raises
for findings — host-key and connection problems are error findings on their host, so one
bad host does not hide the others; the caller decides what a finding means.

The names below are loaded when first used (:mod:`deepctl.preflight.run` pulls in the SSH
stack): a command that only reads saved facts (``deepctl status``,
:mod:`deepctl.preflight.saved`) does not import paramiko.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from deepctl.preflight.collect import load_facts
    from deepctl.preflight.model import GROUPS, Finding, HostFacts, HostResult, PreflightReport
    from deepctl.preflight.run import run_preflight

__all__ = [
    "GROUPS",
    "Finding",
    "HostFacts",
    "HostResult",
    "PreflightReport",
    "load_facts",
    "run_preflight",
]

_HOMES = {"load_facts": "collect", "run_preflight": "run", "GROUPS": "model", "Finding": "model",
          "HostFacts": "model", "HostResult": "model", "PreflightReport": "model"}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
