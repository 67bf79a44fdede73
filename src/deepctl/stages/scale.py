"""Stage ``scale``: Kubespray's ``scale.yml --limit NEW``: only the new worker is configured.

Its success brings the cluster to what deploy's ``kubespray`` stage would make of the same
inventory (Kubespray's documented way to add a worker), so it ``establishes`` those stages:
a deploy right after does not run cluster.yml again for the host add-node just added.
"""

from __future__ import annotations

from deepctl.stages.context import StageContext
from deepctl.stages.kubespray import tree_inputs
from deepctl.stages.stage import Stage

PLAYBOOK = "scale.yml"
ESTABLISHES = ("inventory", "kubespray", "kubeconfig")


def scale_new_host(name: str) -> Stage:
    def run(ctx: StageContext) -> None:
        ctx.ansible.run("scale", PLAYBOOK, limit=name)

    return Stage(
        "scale", f"Join {name} (Kubespray scale.yml --limit {name})",
        lambda c: f"ansible-playbook scale.yml --limit {name}: container runtime, kubelet and "
        f"kubeadm join on {name} only; the other hosts are not reconfigured",
        run=run, after=("facts",), hosts=lambda c: [name], playbook=PLAYBOOK,
        inputs=lambda ctx: {"node": name, **tree_inputs(ctx)},
        establishes=ESTABLISHES,
    )
