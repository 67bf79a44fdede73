"""Stage ``preflight``: check every host before anything changes (see deepctl.preflight).

It is up to date while the spec's hosts, SSH and Kubernetes settings are unchanged *and*
every host is the one it checked: same host keys, same machine-id (deepctl.preflight.identity).
"""

from __future__ import annotations

from typing import Any

from deepctl.errors import PreflightFailed
from deepctl.stages.base import Stage, StageContext


def run_checks(ctx: StageContext, hosts: list[str] | None = None) -> Any:
    """Run preflight; raise :class:`PreflightFailed` when it found errors."""
    from deepctl.preflight import run_preflight  # lazy: it pulls in the SSH stack

    report = run_preflight(ctx.ws, accept_new_hosts=ctx.accept_new_hosts, only_hosts=hosts)
    errors = [f for f in report.findings if f.status == "error"]
    for finding in report.findings:
        if finding.status != "ok":
            ctx.record.log(f"preflight {finding.status}: {finding.host}: {finding.message}")
    if report.has_errors:
        lines = [f"{f.host}: {f.message}" for f in errors]
        raise PreflightFailed(
            f"preflight found {len(errors)} error(s):\n  " + "\n  ".join(lines),
            hint=f"fix them and run again; details with `deepctl preflight {ctx.ws.spec.path}`",
        )
    return report


class PreflightStage(Stage):
    name = "preflight"

    def should_run(self, ctx: StageContext, previous_hash: str | None, current_hash: str
                   ) -> tuple[bool, str]:
        run, why = super().should_run(ctx, previous_hash, current_hash)
        if run:
            return run, why
        from deepctl.preflight import identity  # lazy: it pulls in the SSH stack

        changed = identity.changed_hosts(identity.load_identity(ctx.ws.state),
                                         identity.current_identity(ctx.cluster, ctx.ws.state))
        if changed:
            return True, "host changed since it was checked: " + ", ".join(changed)
        return False, why

    def inputs(self, ctx: StageContext) -> Any:
        spec = ctx.cluster.spec
        return {
            "hosts": [h.model_dump(mode="json") for h in spec.hosts],
            "ssh": spec.ssh.model_dump(mode="json"),
            "kubernetes": spec.kubernetes.model_dump(mode="json"),
            "gpu": spec.addons.gpu.model_dump(mode="json"),
        }

    def run(self, ctx: StageContext) -> None:
        from deepctl.preflight import identity

        run_checks(ctx)
        identity.save_identity(ctx.ws.state,
                               identity.current_identity(ctx.cluster, ctx.ws.state))
