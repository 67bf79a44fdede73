"""Hosts add-node is adding: outside the spec file until they have joined (the entry is kept
here), then in it until add-node's last stages succeed."""

from __future__ import annotations

from typing import Any

from deepctl.errors import StateError
from deepctl.state.documents import read_document, write_document
from deepctl.state.paths import StateDir


def _way_out(state: StateDir) -> str:
    return (f"remove {state.pending_file}: add-node then forgets the hosts it had not written "
            "into the spec yet, and treats those in the spec as added (a deploy of the spec "
            "then configures them)")


def load_pending(state: StateDir) -> dict[str, dict[str, Any]]:
    """``{host name: {"since": ..., "entry": {spec host entry}}}``."""
    data = read_document(state.pending_file, _way_out(state))
    if data is None:
        return {}
    nodes = data.get("nodes", {k: v for k, v in data.items() if k != "version"})
    if not isinstance(nodes, dict) or not all(isinstance(v, dict) for v in nodes.values()):
        raise StateError(f"{state.pending_file}: unreadable (not a map of hosts)",
                         hint=_way_out(state))
    return {str(k): v for k, v in nodes.items()}


def set_pending(state: StateDir, name: str, value: dict[str, Any] | None) -> None:
    nodes = load_pending(state)
    if value is None:
        nodes.pop(name, None)
    else:
        nodes[name] = value
    write_document(state.pending_file, {"nodes": nodes})
