"""Stage ``refresh-facts``: Kubespray's ``playbooks/facts.yml`` on every host once Kubespray
ran, so that what follows reads the facts of the hosts as installed. It changes nothing."""

from __future__ import annotations

from deepctl.clusterspec.models import Cluster
from deepctl.stages.context import StageContext
from deepctl.stages.kubespray import tree_inputs
from deepctl.stages.stage import Stage, every_host

NAME = "refresh-facts"
PLAYBOOK = "playbooks/facts.yml"


def describe(cluster: Cluster) -> str:
    return f"ansible-playbook {PLAYBOOK} on {len(cluster.spec.hosts)} host(s); changes nothing"


def run(ctx: StageContext) -> None:
    ctx.ansible.run(NAME, PLAYBOOK)


REFRESH_FACTS = Stage(
    NAME, "Refresh the facts of every host", describe, run=run, after=("kubespray",),
    hosts=every_host, playbook=PLAYBOOK, inputs=tree_inputs, checks_only=True,
    enabled=lambda cluster: len(cluster.spec.hosts) > 1)
