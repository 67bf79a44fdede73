"""Stage ``kubeconfig``: keep the admin kubeconfig Kubespray wrote (``kubeconfig_localhost``)."""

from __future__ import annotations

import os
from typing import Any

from deepctl.errors import StateError
from deepctl.stages.base import Stage, StageContext
from deepctl.stages.kubespray import tree_inputs


class KubeconfigStage(Stage):
    name = "kubeconfig"

    def inputs(self, ctx: StageContext) -> Any:
        return tree_inputs(ctx)

    def should_run(self, ctx: StageContext, previous_hash: str | None, current_hash: str
                   ) -> tuple[bool, str]:
        if not ctx.ws.state.kubeconfig.exists():
            return True, "no admin kubeconfig yet"
        return super().should_run(ctx, previous_hash, current_hash)

    def run(self, ctx: StageContext) -> None:
        path = ctx.ws.state.kubeconfig
        if not path.is_file():
            raise StateError(
                f"Kubespray did not write the admin kubeconfig {path}",
                hint="check that kubeconfig_localhost is not overridden to false in "
                "spec.kubesprayVars, then run `deepctl deploy --only kubespray` again",
            )
        os.chmod(path, 0o600)
        os.chmod(path.parent, 0o700)
        ctx.record.log(f"admin kubeconfig: {path}")
