"""Stage ``preflight``: check every host before anything changes (see deepctl.preflight).

It is up to date while the spec's hosts, SSH and Kubernetes settings are unchanged *and*
every host is the one it checked: same host keys, same machine-id (deepctl.preflight.identity).
"""

from __future__ import annotations

from typing import Any

from deepctl.clusterspec.models import Cluster
from deepctl.errors import PreflightFailed
from deepctl.names import summary
from deepctl.shellwords import deepctl_command
from deepctl.stages.context import PlanContext, StageContext
from deepctl.stages.stage import Stage, every_host, named


def run_checks(ctx: StageContext, hosts: list[str] | None = None) -> Any:
    """Run preflight; raise :class:`PreflightFailed` when it found errors."""
    from deepctl.preflight import run_preflight  # lazy: it pulls in the SSH stack

    report = run_preflight(ctx.ws, accept_new_hosts=ctx.accept_new_hosts, only_hosts=hosts)
    strict = bool(ctx.params.get("strict"))  # --strict: warnings are errors
    failing = ("error", "warning") if strict else ("error",)
    errors = [f for f in report.findings if f.status in failing]
    for finding in report.findings:
        if finding.status != "ok":
            ctx.record.log(f"preflight {finding.status}: {finding.host}: {finding.message}")
    if errors:
        lines = [f.message if f.message.startswith(f"{f.host}: ") else f"{f.host}: {f.message}"
                 for f in errors]  # an SSH error names its host already: once is enough
        what = "error(s) or warning(s), and --strict treats warnings as errors" if strict and \
            not report.has_errors else "error(s)"
        # `deepctl preflight SPEC` checks the spec's hosts: not a host add-node has not
        # written into it yet; the command to run again follows (resume with: ...)
        words = ("--strict",) if strict else ()
        details = "" if hosts else \
            f"; details with `{deepctl_command('preflight', ctx.ws.spec.path, *words)}`"
        raise PreflightFailed(
            f"preflight found {len(errors)} {what}:\n  " + "\n  ".join(lines),
            hint=f"fix them and run again{details}")
    return report


def preflight_inputs(ctx: PlanContext) -> Any:
    spec = ctx.cluster.spec
    return {
        "hosts": [h.model_dump(mode="json") for h in spec.hosts],
        "ssh": spec.ssh.model_dump(mode="json"),
        "kubernetes": spec.kubernetes.model_dump(mode="json"),
        "gpu": spec.addons.gpu.model_dump(mode="json"),
        **({"strict": True} if ctx.params.get("strict") else {}),  # passed with warnings: rerun
    }


def _host_changed(ctx: PlanContext) -> str | None:
    """Up to date by the spec, but a host's key or machine-id changed since it was checked."""
    from deepctl.preflight import identity  # lazy: it pulls in the SSH stack

    changed = identity.changed_hosts(identity.load_identity(ctx.ws.state),
                                     identity.current_identity(ctx.cluster, ctx.ws.state))
    return "host changed since it was checked: " + summary(changed) if changed else None


def _run_all(ctx: StageContext) -> None:
    from deepctl.preflight import identity

    run_checks(ctx)
    identity.save_identity(ctx.ws.state, identity.current_identity(ctx.cluster, ctx.ws.state))


def _describe(cluster: Cluster) -> str:
    return (f"SSH to {len(cluster.spec.hosts)} host(s) "
            f"({summary([h.name for h in cluster.spec.hosts], counted=False)}) and check OS, "
            "resources, ports, uniqueness, GPUs and what Kubespray will assert; changes nothing")


PREFLIGHT = Stage("preflight", "Check hosts", _describe, run=_run_all, hosts=every_host,
                  inputs=preflight_inputs, rerun=_host_changed, checks_only=True)


def preflight_new_hosts(names: tuple[str, ...]) -> Stage:
    """add-node's ``preflight``: the new host(s) alone, against the cluster's spec."""
    name, batch = named(names), len(names) > 1
    return Stage(
        "preflight", f"Check the new host{'s' if batch else ''} {name}",
        lambda c: f"SSH to {name} and check OS, resources, ports, uniqueness, GPUs against the "
        "other hosts' recorded facts; changes nothing",
        run=lambda ctx: run_checks(ctx, hosts=list(names)), hosts=lambda c: list(names),
        inputs=lambda ctx: {**({"nodes": list(names)} if batch else {"node": name}),
                            **preflight_inputs(ctx)}, checks_only=True)
