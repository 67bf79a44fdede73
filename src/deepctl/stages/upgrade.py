"""Stages of ``upgrade``: Kubespray's ``upgrade-cluster.yml``, then the spec's new version."""

from __future__ import annotations

from deepctl.clusterspec.edit import set_kube_version_text
from deepctl.clusterspec.loader import read_spec_text
from deepctl.stages.context import StageContext
from deepctl.stages.facts import PLAYBOOK as FACTS_PLAYBOOK
from deepctl.stages.kubespray import tree_inputs
from deepctl.stages.scale import ESTABLISHES
from deepctl.stages.spec_change import apply_spec_text
from deepctl.stages.stage import Stage, every_host

PLAYBOOK = "upgrade-cluster.yml"


def upgrade_to(version: str) -> Stage:
    def run(ctx: StageContext) -> None:
        every = [h.name for h in ctx.cluster.spec.hosts]
        if len(ctx.cluster.spec.executors or []) > 1:
            # Kubespray's node-based upgrade (docs/operations/upgrades.md): "Before using
            # --limit run playbook facts.yml without the limit to refresh facts cache for
            # all nodes" (its slices together cover every host)
            ctx.ansible.run("upgrade", FACTS_PLAYBOOK, spread=every)
        # spec.executors: control plane and etcd first, then the workers in slices
        ctx.ansible.run("upgrade", PLAYBOOK, extravars={"kube_version": version}, spread=every)

    return Stage(
        "upgrade", f"Upgrade Kubernetes to {version} (Kubespray upgrade-cluster.yml)",
        lambda c: f"ansible-playbook upgrade-cluster.yml -e kube_version={version}: "
        f"{c.spec.kubernetes.version} -> {version}, one node at a time (drained, upgraded, "
        "uncordoned)",
        run=run, hosts=every_host, playbook=PLAYBOOK,
        inputs=lambda ctx: {"to": version, **tree_inputs(ctx)})


def set_version(version: str) -> Stage:
    def run(ctx: StageContext) -> None:
        path = ctx.ws.spec.path
        if ctx.cluster.spec.kubernetes.version != version:
            apply_spec_text(ctx, set_kube_version_text(read_spec_text(path), version))
        ctx.record.log(f"spec.kubernetes.version: {version} in {path}")

    return Stage(
        "spec", f"Write version {version} into the spec",
        lambda c: f"set spec.kubernetes.version to {version} in the spec file (backup beside "
        "it), comments and layout kept",
        run=run, after=("upgrade",), establishes=ESTABLISHES,
        rerun=lambda ctx: "the spec has another version"
        if ctx.cluster.spec.kubernetes.version != version else None)
