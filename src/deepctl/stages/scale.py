"""Stage ``scale``: Kubespray's ``scale.yml --limit NEW``: only the new worker is configured.

Its success brings the cluster to what deploy's ``kubespray`` stage would make of the same
inventory (Kubespray's documented way to add a worker), so it ``establishes`` those stages:
a deploy right after does not run cluster.yml again for the host add-node just added.
"""

from __future__ import annotations

from deepctl.stages.context import StageContext
from deepctl.stages.kubespray import tree_inputs
from deepctl.stages.stage import Stage, named

PLAYBOOK = "scale.yml"
ESTABLISHES = ("inventory", "kubespray", "kubeconfig")


def scale_new_hosts(names: tuple[str, ...]) -> Stage:
    """``scale.yml --limit NEW``; a batch of workers (add-node --hosts) is spread over
    spec.executors, one ``--limit`` slice per executor (docs/executor.md)."""
    name, batch = named(names), len(names) > 1
    limit_words = f"the {len(names)} new hosts" if batch else name

    def run(ctx: StageContext) -> None:
        ctx.ansible.run("scale", PLAYBOOK, limit=",".join(names),
                        spread=list(names) if batch else None)

    return Stage(
        "scale", f"Join {name} (Kubespray scale.yml --limit {name})",
        lambda c: f"ansible-playbook scale.yml --limit {limit_words}: container runtime, "
        f"kubelet and kubeadm join on {name} only; the other hosts are not reconfigured"
        + ("; split into one --limit slice per executor" if batch and
           len(c.spec.executors or []) > 1 else ""),
        run=run, after=("facts",), hosts=lambda c: list(names), playbook=PLAYBOOK,
        inputs=lambda ctx: {**({"nodes": list(names)} if batch else {"node": name}),
                            **tree_inputs(ctx)},
        establishes=ESTABLISHES,
    )
