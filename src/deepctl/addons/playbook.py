"""Prepare an addon stage's playbook runs for the engine.

:func:`plan_addon` is pure: what an addon would install for a spec (releases, chart versions,
values text, manifests). :func:`prepare_addon` writes that plan into a work directory
(files 0600), makes sure the addon's secrets exist in the state directory, and returns the
playbooks to run in order, with their variables (empty: nothing to do, the addon is
disabled); the addon stage runs them through the run's Ansible. The playbooks live in
``templates/playbooks/``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deepctl.addons.manifests import addon_manifests
from deepctl.addons.offline import ChartSource, chart_source
from deepctl.addons.registry import Addon, Release, get_addon
from deepctl.addons.secrets import addon_secrets
from deepctl.addons.slurm import slurm_layout
from deepctl.addons.values import addon_context, nfs_server_address, render_values
from deepctl.ansible.runner import ControllerFile
from deepctl.clusterspec.models import Cluster
from deepctl.errors import DeepctlError
from deepctl.fsutil import atomic_write, ensure_private_dir
from deepctl.names import summary
from deepctl.preflight.gpu import GpuInventory
from deepctl.shellwords import deepctl_command
from deepctl.templates import playbook_path
from deepctl.workspace import Workspace

ADDON_PLAYBOOK = "addon.yml"
DEFAULT_REMOTE_DIR = "/var/lib/deepctl/addons"


@dataclass(frozen=True)
class ReleasePlan:
    release: Release
    version: str
    values: str
    source: ChartSource | None = None  # None: the chart's upstream repository


@dataclass(frozen=True)
class AddonPlan:
    addon: Addon
    releases: tuple[ReleasePlan, ...]
    manifests: Mapping[str, str]

    @property
    def empty(self) -> bool:
        return not self.releases


def plan_addon(cluster: Cluster, addon: Addon,
               gpus: Mapping[str, GpuInventory] | None = None) -> AddonPlan:
    """What ``addon`` installs for ``cluster`` (pure; empty when the addon is disabled).

    ``gpus``: what preflight saw per host (Slurm's NodeSets and GRES are made from it).
    """
    context = addon_context(cluster, gpus)
    releases = tuple(
        ReleasePlan(r, r.version(cluster), render_values(cluster, r, context), chart_source(cluster, r))
        for r in addon.active_releases(cluster)
    )
    manifests = addon_manifests(cluster, addon) if releases else {}
    return AddonPlan(addon, releases, manifests)


def _release_var(plan: ReleasePlan, values_file: Path) -> dict[str, Any]:
    chart = plan.release.chart
    source = plan.source or ChartSource(chart.repo_name, chart.repo_url, chart.ref, chart.oci)
    return {
        "name": plan.release.name,
        "namespace": plan.release.namespace,
        "chart": chart.name,
        "chart_ref": source.ref,
        "chart_file": ControllerFile(source.file) if source.file else "",
        "repo_name": source.repo_name,
        "repo_url": source.repo_url,
        "oci": source.oci,
        "version": plan.version,
        "timeout": plan.release.timeout,
        "values_file": ControllerFile(values_file),
    }


def write_plan(plan: AddonPlan, work_dir: Path) -> dict[str, Any]:
    """Write values files and manifests (0600) under ``work_dir``; the playbook's extra vars."""
    files = ensure_private_dir(work_dir / "files")
    releases = []
    for item in plan.releases:
        path = files / f"{item.release.name}.values.yaml"
        atomic_write(path, item.values, mode=0o600)
        releases.append(_release_var(item, path))
    manifests = []
    for name, text in plan.manifests.items():
        path = files / name
        atomic_write(path, text, mode=0o600)
        manifests.append(ControllerFile(path))
    return {"deepctl_addon": plan.addon.name, "deepctl_releases": releases,
            "deepctl_manifests": manifests}


def nfs_host_vars(cluster: Cluster) -> dict[str, Any]:
    """Extra vars of the NFS host playbook (pure)."""
    nfs = cluster.spec.addons.storage.nfs
    managed = nfs.server if nfs.server and not nfs.external_server else ""
    clients = [str(h.internal_address or h.address) for h in cluster.spec.hosts]
    return {"deepctl_nfs_server_host": managed, "deepctl_nfs_path": nfs.path,
            "deepctl_nfs_clients": clients, "deepctl_nfs_server": nfs_server_address(cluster)}


def saved_gpus(ws: Workspace) -> dict[str, GpuInventory]:
    """The GPUs preflight saw on the spec's hosts (``<state>/facts/<host>.json``)."""
    from deepctl.preflight.saved import gpu_inventories

    return gpu_inventories(ws.state, [h.name for h in ws.cluster.spec.hosts])


def require_gpu_facts(ws: Workspace, missing: tuple[str, ...]) -> None:
    """Refuse to size Slurm's GPU nodes without knowing their GPUs."""
    if missing:
        raise DeepctlError(
            f"slurm: preflight has not counted the GPUs of {summary(list(missing))} "
            f"(no usable facts in {ws.state.facts_dir}): their Slurm nodes' GRES would be unknown",
            hint=f"run `{deepctl_command('preflight', ws.spec.path)}`, then "
            f"`{deepctl_command('deploy', ws.spec.path, '--only', 'slurm')}`",
        )


@dataclass(frozen=True)
class AddonPlaybook:
    """One playbook of an addon stage, with its extra vars."""

    name: str  # "hosts" or "helm"
    playbook: Path
    extravars: dict[str, Any]


def prepare_addon(
    ws: Workspace, addon_name: str, work_dir: Path, *, remote_dir: str = DEFAULT_REMOTE_DIR
) -> list[AddonPlaybook]:
    """Render an addon into ``work_dir`` (0700) and return its playbooks in order.

    ``[]`` when the addon is disabled. Secrets the addon needs are created (once) in the
    state directory; the extra vars only hold their paths.
    """
    cluster = ws.cluster
    addon = get_addon(addon_name)
    gpus = saved_gpus(ws) if addon_name == "slurm" else None
    plan = plan_addon(cluster, addon, gpus)
    if plan.empty:
        return []
    if gpus is not None:
        require_gpu_facts(ws, slurm_layout(cluster, gpus).missing_facts)
    ensure_private_dir(work_dir)
    extravars = write_plan(plan, work_dir)
    extravars["deepctl_remote_dir"] = remote_dir
    extravars["deepctl_secrets"] = [
        {"name": s.name, "namespace": s.namespace, "path": ControllerFile(s.path)}
        for s in addon_secrets(cluster, addon.name, ws.state)
    ]
    playbooks: list[AddonPlaybook] = []
    if addon.host_playbook and cluster.spec.addons.storage.nfs.enabled:
        playbooks.append(
            AddonPlaybook("hosts", playbook_path(addon.host_playbook), nfs_host_vars(cluster))
        )
    playbooks.append(AddonPlaybook("helm", playbook_path(ADDON_PLAYBOOK), extravars))
    return playbooks
