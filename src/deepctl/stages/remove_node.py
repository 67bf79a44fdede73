"""Stages of ``remove-node``: Kubespray's ``remove-node.yml``, then the host leaves the spec.

``remove``: drain, ``kubeadm reset`` on the node and delete it from the API (with ``--force``
the host is dead: no reset, ungraceful removal). ``spec``: the host's entry is removed from the
spec file (every other byte kept) and the run's inventory rendered again; the cluster then is
what deploy's Kubespray stages would make of the new spec, so they are recorded current.
"""

from __future__ import annotations

from typing import Any

from deepctl.clusterspec.edit import remove_host_text
from deepctl.clusterspec.loader import read_spec_text
from deepctl.stages.context import StageContext
from deepctl.stages.kubespray import tree_inputs
from deepctl.stages.scale import ESTABLISHES
from deepctl.stages.spec_change import apply_spec_text, reload_spec, spec_names_host
from deepctl.stages.stage import Stage

PLAYBOOK = "remove-node.yml"


def remove_vars(name: str, force: bool) -> dict[str, Any]:
    extravars: dict[str, Any] = {"node": name, "skip_confirmation": True}
    if force:
        extravars.update(reset_nodes=False, allow_ungraceful_removal=True)
    return extravars


def remove_host(name: str, force: bool) -> Stage:
    def run(ctx: StageContext) -> None:
        ctx.ansible.run("remove", PLAYBOOK, extravars=remove_vars(name, force))

    how = "without resetting it (it is gone)" if force else "drain it, reset it"
    return Stage(
        "remove", f"Remove {name} (Kubespray remove-node.yml)",
        lambda c: f"ansible-playbook remove-node.yml -e node={name}: {how}, delete the node "
        "from the API",
        run=run, hosts=lambda c: [name], playbook=PLAYBOOK,
        inputs=lambda ctx: {"node": name, "force": force, **tree_inputs(ctx)})


def drop_from_spec(name: str) -> Stage:
    def run(ctx: StageContext) -> None:
        path = ctx.ws.spec.path
        if spec_names_host(path, name):  # not so for a pending host add-node never wrote
            apply_spec_text(ctx, remove_host_text(read_spec_text(path), name))
            ctx.record.log(f"removed {name} from {path}")
        else:
            reload_spec(ctx)  # the run saw a pending host the file never had: now it has not

    return Stage(
        "spec", f"Drop {name} from the spec",
        lambda c: f"remove {name}'s entry from the spec file (backup beside it), comments and "
        "layout kept",
        run=run, after=("remove",), establishes=ESTABLISHES,
        rerun=lambda ctx: "the spec still names the host"
        if spec_names_host(ctx.ws.spec.path, name) else None)
