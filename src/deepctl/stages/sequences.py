"""Every command that changes a cluster, as the list of stages it runs (molecule's sequences).

``deploy`` is a constant list; the node commands' lists are built from their arguments (the
host being added or removed, the target version). The engine runs each the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from deepctl.stages.addons import ADDON_STAGES
from deepctl.stages.facts import facts_for_new_hosts
from deepctl.stages.gpu_ready import gpu_ready
from deepctl.stages.kubespray import KUBESPRAY
from deepctl.stages.offline_ca import OFFLINE_CA
from deepctl.stages.preflight import preflight_new_hosts
from deepctl.stages.remove_node import drop_from_spec, remove_host
from deepctl.stages.reset import FORGET, RESET
from deepctl.stages.scale import ESTABLISHES, scale_new_hosts
from deepctl.stages.spec_change import write_new_host
from deepctl.stages.stage import Stage, named, ordered, stage_at
from deepctl.stages.upgrade import set_version, upgrade_to
from deepctl.stages.verify import verify_new_node

# deploy's stages, one per line, in order (:func:`ordered` moves a stage after what its
# ``after`` names): the one place the sequence is written; tests and plans derive from it.
# Each line names its stage as ``module:NAME`` (:func:`stage_at`): adding a stage adds one
# line here, no import.
DEPLOY: tuple[Stage, ...] = (
    stage_at("preflight:PREFLIGHT"),
    stage_at("inventory:INVENTORY"),
    stage_at("offline_ca:OFFLINE_CA"),
    stage_at("kubespray:KUBESPRAY"),
    stage_at("kubeconfig:KUBECONFIG"),
    *ADDON_STAGES,
    stage_at("verify:VERIFY"),
)
DEPLOY_STAGE_NAMES: tuple[str, ...] = tuple(s.name for s in ordered(DEPLOY))
DEPLOY_LEDGER_PREFIX = ""  # deploy's stages are keyed by their names in the ledger


def deploy_stages() -> list[Stage]:
    return ordered(DEPLOY)


def add_node_stages(name: str | tuple[str, ...], roles: Sequence[str]) -> list[Stage]:
    """A worker: facts on all hosts, then ``scale.yml --limit NAME``; a control plane or etcd
    member: ``cluster.yml`` on every host ("You can NOT use scale.yml for that"). The host
    enters the spec file (``spec``) once it has joined. A batch (``add-node --hosts``: a
    tuple of names, workers only) runs the worker's stages for all of them at once."""
    names = (name,) if isinstance(name, str) else name
    name = named(names)
    if {"control-plane", "etcd"} & set(roles):
        join = [replace(KUBESPRAY, title=f"Join {name} (Kubespray cluster.yml on every host)",
                        after=("preflight",), establishes=ESTABLISHES)]
    else:
        join = [facts_for_new_hosts(names), scale_new_hosts(names)]
    last = join[-1].name
    return ordered([preflight_new_hosts(names), replace(OFFLINE_CA, after=("preflight",)),
                    *join, write_new_host(names, after=last),
                    replace(gpu_ready(names), after=("spec",)),
                    replace(verify_new_node(names), after=("spec", "gpu-ready"))])


def remove_node_stages(name: str, force: bool) -> list[Stage]:
    return ordered([remove_host(name, force), drop_from_spec(name)])


def upgrade_stages(version: str) -> list[Stage]:
    return ordered([upgrade_to(version), set_version(version)])


def reset_stages() -> list[Stage]:
    return ordered([RESET, FORGET])
