"""Stage ``facts``: Kubespray's ``playbooks/facts.yml`` on every host.

``scale.yml --limit NEW`` templates the other hosts' addresses from their facts, so add-node
gathers them all first (Kubespray v2.31.0, docs/operations/nodes.md). It changes nothing.
"""

from __future__ import annotations

from deepctl.stages.context import StageContext
from deepctl.stages.kubespray import tree_inputs
from deepctl.stages.stage import Stage, every_host

PLAYBOOK = "playbooks/facts.yml"


def _facts(ctx: StageContext) -> None:
    ctx.ansible.run("facts", PLAYBOOK)


FACTS = Stage(
    "facts", "Gather facts of every host (Kubespray playbooks/facts.yml)",
    lambda c: f"ansible-playbook playbooks/facts.yml on {len(c.spec.hosts)} host(s); changes "
    "nothing",
    run=_facts, after=("preflight",), hosts=every_host, playbook=PLAYBOOK, inputs=tree_inputs,
)
