"""Stage ``offline-ca``: with ``spec.offline.caFile``, every host trusts the mirrors' CA
before Kubespray downloads anything (``templates/playbooks/offline-ca.yml``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deepctl.clusterspec.models import Cluster
from deepctl.clusterspec.offline import MAX_CA_BYTES
from deepctl.kubevars.offline import CA_PATH
from deepctl.stages.context import StageContext
from deepctl.stages.stage import Stage, every_host
from deepctl.templates import playbook_path
from deepctl.user_input import read_input

NAME = "offline-ca"
TITLE = "Trust the mirror CA"
PLAYBOOK = "offline-ca.yml"


def offline_ca_enabled(cluster: Cluster) -> bool:
    offline = cluster.spec.offline
    return offline is not None and offline.ca_file is not None


def describe(cluster: Cluster) -> str:
    offline = cluster.spec.offline
    ca = offline.ca_file if offline else None
    what = ca if ca is not None else "spec.offline.caFile (none is set)"
    return f"install {what} on every host ({CA_PATH} and the system trust store)"


def extravars(cluster: Cluster) -> dict[str, Any]:
    """The playbook's variables: the CA itself, not its path here, so that the playbook needs
    no file of the machine running Ansible (an executor has none of them)."""
    return {"deepctl_ca_pem": inputs(cluster)["ca"], "deepctl_ca_path": CA_PATH}


def inputs(cluster: Cluster) -> dict[str, Any]:
    """What the step depends on: the CA's bytes (a new CA runs it again)."""
    offline = cluster.spec.offline
    if offline is None or offline.ca_file is None:
        return {}
    ca = read_input(Path(offline.ca_file), MAX_CA_BYTES, "CA bundle")
    return {"ca": ca.decode("ascii", errors="replace")}


def run_offline_ca(ctx: StageContext) -> None:
    """Install the CA on every host (nothing to do without ``spec.offline.caFile``)."""
    if not offline_ca_enabled(ctx.cluster):
        return
    ctx.ansible.run(NAME, str(playbook_path(PLAYBOOK)), extravars=extravars(ctx.cluster))
    ctx.record.log(f"{NAME}: mirror CA installed on {len(ctx.cluster.spec.hosts)} host(s)")


OFFLINE_CA = Stage(NAME, TITLE, describe, run=run_offline_ca, after=("inventory",),
                   enabled=offline_ca_enabled, hosts=every_host, inputs=lambda ctx: inputs(ctx.cluster))
