"""Stages of ``reset``: Kubespray's ``reset.yml`` on every host, then the state forgets."""

from __future__ import annotations

from deepctl.stages.context import StageContext
from deepctl.stages.kubespray import tree_inputs
from deepctl.stages.stage import Stage, every_host
from deepctl.state.ledger import forget

PLAYBOOK = "reset.yml"


def _reset(ctx: StageContext) -> None:
    ctx.ansible.run("reset", PLAYBOOK, extravars={"reset_confirmation": "yes"})


def _forget(ctx: StageContext) -> None:
    forget(ctx.ws.state)
    ctx.ws.state.kubeconfig.unlink(missing_ok=True)
    ctx.record.log("forgot every finished stage; removed the admin kubeconfig")


RESET = Stage(
    "reset", "Wipe Kubernetes from every host (Kubespray reset.yml)",
    lambda c: f"ansible-playbook reset.yml on {len(c.spec.hosts)} host(s): stops and removes "
    "Kubernetes, etcd, the container runtime's containers and the CNI",
    run=_reset, hosts=every_host, playbook=PLAYBOOK, inputs=tree_inputs)

FORGET = Stage(
    "forget", "Forget the finished stages",
    lambda c: "clear the stage ledger and remove the admin kubeconfig: the next deploy runs "
    "every stage",
    run=_forget, after=("reset",), rerun=lambda ctx: "always")
