"""Stage ``verify``: every host of the spec is a Ready node (asked on the first control plane)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from deepctl.errors import DeepctlError
from deepctl.stages.base import Stage, StageContext

TASK = "List nodes"


def playbook_path() -> Path:
    return Path(str(resources.files("deepctl.data") / "playbooks" / "verify.yml"))


def ready_nodes(kubectl_json: str) -> dict[str, bool]:
    """``kubectl get nodes -o json`` -> {node name: Ready?} (pure)."""
    try:
        items = json.loads(kubectl_json).get("items", [])
    except (ValueError, AttributeError):
        return {}
    out: dict[str, bool] = {}
    for item in items:
        name = str(item.get("metadata", {}).get("name", ""))
        conditions = item.get("status", {}).get("conditions", [])
        out[name] = any(c.get("type") == "Ready" and c.get("status") == "True"
                        for c in conditions)
    return out


def not_ready(expected: list[str], nodes: dict[str, bool]) -> list[str]:
    return [name for name in expected if not nodes.get(name, False)]


class VerifyStage(Stage):
    name = "verify"

    def should_run(self, ctx: StageContext, previous_hash: str | None, current_hash: str
                   ) -> tuple[bool, str]:
        return True, "always checks"

    def run(self, ctx: StageContext) -> None:
        captured: list[str] = []

        def capture(event: dict[str, Any]) -> None:
            data = event.get("event_data") or {}
            if event.get("event") == "runner_on_ok" and data.get("task") == TASK:
                captured.append(str((data.get("res") or {}).get("stdout", "")))

        ctx.ansible.run(self.name, str(playbook_path()), on_event=capture)
        nodes = ready_nodes(captured[-1] if captured else "")
        missing = not_ready([h.name for h in ctx.cluster.spec.hosts], nodes)
        if missing:
            raise DeepctlError(
                f"not Ready: {', '.join(missing)} ({len(nodes)} node(s) reported by the API)",
                hint="look at the node with `kubectl describe node NAME`, then run "
                f"`deepctl deploy {ctx.ws.spec.path} --only verify`",
            )
        ctx.record.log(f"verify: {len(nodes)} node(s) Ready")
