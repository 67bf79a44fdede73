"""Stage ``kubeconfig``: keep the admin kubeconfig Kubespray wrote (``kubeconfig_localhost``)."""

from __future__ import annotations

import os

from deepctl.errors import StateError
from deepctl.shellwords import deepctl_command
from deepctl.stages.context import PlanContext, StageContext
from deepctl.stages.kubespray import tree_inputs
from deepctl.stages.stage import Stage


def _missing(ctx: PlanContext) -> str | None:
    return None if ctx.ws.state.kubeconfig.exists() else "no admin kubeconfig yet"


def keep_kubeconfig(ctx: StageContext) -> None:
    path = ctx.ws.state.kubeconfig
    if not path.is_file():
        raise StateError(
            f"Kubespray did not write the admin kubeconfig {path}",
            hint="Kubespray writes it at the end of cluster.yml (role kubernetes/client); run "
            f"`{deepctl_command('deploy', ctx.ws.spec.path, '--from', 'kubespray')}` and look at "
            f"that role's tasks in `{deepctl_command('logs', ctx.ws.spec.path)}`")
    os.chmod(path, 0o600)
    os.chmod(path.parent, 0o700)
    ctx.record.log(f"admin kubeconfig: {path}")


KUBECONFIG = Stage(
    "kubeconfig", "Fetch admin kubeconfig",
    lambda c: "keep Kubespray's artifacts/admin.conf (0600) in the state directory",
    run=keep_kubeconfig, after=("kubespray",), inputs=tree_inputs, rerun=_missing,
)
