"""Stages ``storage``, ``gpu``, ``monitoring``, ``logging``, ``slurm``, ``jupyterhub``.

Each runs the addon's shipped playbooks (``templates/addons/playbooks/``) through the run's
:class:`~deepctl.engine.playbooks.Ansible`. An addon stage runs on every deploy, even when
its inputs did not change: the playbook itself leaves releases that are deployed with the
same chart version and values alone, and repairs failed or stuck ones.
"""

from __future__ import annotations

from typing import Any

from deepctl.addons.playbook import plan_addon, prepare_addon
from deepctl.addons.registry import ADDON_NAMES, get_addon
from deepctl.stages.base import Stage, StageContext


class AddonStage(Stage):
    """One addon as a deploy stage."""

    def __init__(self, name: str) -> None:
        self.name = name

    def inputs(self, ctx: StageContext) -> Any:
        plan = plan_addon(ctx.cluster, get_addon(self.name))
        return {
            "releases": [[r.release.name, r.version, r.values] for r in plan.releases],
            "manifests": dict(plan.manifests),
        }

    def should_run(self, ctx: StageContext, previous_hash: str | None, current_hash: str
                   ) -> tuple[bool, str]:
        if not get_addon(self.name).active_releases(ctx.cluster):
            return False, "not enabled in the spec"
        if previous_hash == current_hash:
            return True, "unchanged; checking the releases are deployed and healthy"
        return True, "never ran" if previous_hash is None else "inputs changed"

    def run(self, ctx: StageContext) -> None:
        work_dir = ctx.record.dir / "addons" / self.name
        for item in prepare_addon(ctx.ws, self.name, work_dir):
            ctx.ansible.run(self.name, str(item.playbook), extravars=item.extravars)


def addon_stage_factories() -> dict[str, type[Stage]]:
    """``{stage name: factory}`` for the registry (each factory takes no argument)."""
    return {name: _factory(name) for name in ADDON_NAMES}


def _factory(name: str) -> type[Stage]:
    return type(f"{name.capitalize()}AddonStage", (AddonStage,),
                {"__init__": lambda self: AddonStage.__init__(self, name)})
