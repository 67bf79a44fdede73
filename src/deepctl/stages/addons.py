"""Stages ``storage``, ``gpu``, ``monitoring``, ``logging``, ``slurm``, ``jupyterhub``.

Generated from the addon table (:data:`deepctl.addons.registry.ADDONS`), which holds each
addon's title, when the spec enables it and what it comes after: one place per fact.
Each runs the addon's shipped playbooks through the run's Ansible. An addon stage runs on
every deploy, even when its inputs did not change: the playbook leaves releases deployed
with the same chart version and values alone, and repairs failed or stuck ones.
"""

from __future__ import annotations

from deepctl.addons.describe import describer
from deepctl.addons.playbook import plan_addon, prepare_addon, saved_gpus
from deepctl.addons.registry import ADDONS, Addon
from deepctl.stages.context import PlanContext, StageContext
from deepctl.stages.stage import Stage, first_control_plane


def _inputs(addon: Addon, ctx: PlanContext) -> object:
    gpus = saved_gpus(ctx.ws) if addon.name == "slurm" else None  # Slurm's GRES come from them
    plan = plan_addon(ctx.cluster, addon, gpus)
    return {
        "releases": [[r.release.name, r.version, r.values] for r in plan.releases],
        "manifests": dict(plan.manifests),
    }


def _run(addon: Addon, ctx: StageContext) -> None:
    work_dir = ctx.record.paths.addon_dir(addon.name)
    for item in prepare_addon(ctx.ws, addon.name, work_dir):
        ctx.ansible.run(addon.name, str(item.playbook), extravars=item.extravars)


def addon_stage(addon: Addon) -> Stage:
    """The deploy stage of one addon."""
    return Stage(
        addon.name, addon.title, describer(addon.name),
        run=lambda ctx: _run(addon, ctx),
        after=("kubeconfig", *addon.depends_on),
        enabled=lambda c: bool(addon.active_releases(c)), hosts=first_control_plane,
        inputs=lambda ctx: _inputs(addon, ctx),
        rerun=lambda ctx: "unchanged; checking the releases are deployed and healthy",
    )


ADDON_STAGES: tuple[Stage, ...] = tuple(addon_stage(a) for a in ADDONS)
