"""Verify after Ctrl-C: remove what the checks made (Jobs, pods, Services, the Secret) and
undo ``--drain``'s cordon, over SSH on the first control plane with the kubectl at
Kubespray's ``bin_dir``: Ansible is canceled by then, so this does not go through it."""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from deepctl.errors import DeepctlError
from deepctl.shellwords import deepctl_command
from deepctl.stages.context import StageContext
from deepctl.verify import manifests as m

DEFAULT_BIN_DIR = "/usr/local/bin"
TIMEOUT_S = 60.0


def cleanup_commands(bin_dir: str, selector: str, drained: Sequence[str]) -> list[str]:
    """The shell commands, in order (pure)."""
    kubectl = f"{shlex.quote(bin_dir)}/kubectl"
    env = "KUBECONFIG=/etc/kubernetes/admin.conf"
    out = [f"{env} {kubectl} delete jobs,services,secrets --namespace {m.NAMESPACE} "
           f"--selector {shlex.quote(selector)} --ignore-not-found --wait=false "
           "--cascade=background"]
    out += [f"{env} {kubectl} uncordon {shlex.quote(node)}" for node in drained]
    return out


def bin_dir(ctx: StageContext) -> str:
    host = ctx.cluster.control_plane[0]
    value = host.kubespray_vars.get("bin_dir", ctx.cluster.spec.kubespray_vars.get("bin_dir"))
    return str(value) if isinstance(value, str) and value else DEFAULT_BIN_DIR


def clean_up_after_cancel(ctx: StageContext, selector: str, drained: Sequence[str]) -> None:
    """Best effort: say what could not be removed, never hide the cancel behind it."""
    from deepctl.executor.way_in import open_way_in
    from deepctl.ssh.cluster import open_client
    from deepctl.ssh.exec import run_command

    host = ctx.cluster.control_plane[0]
    sudo = "sudo -n " if ctx.cluster.spec.ssh.become else ""
    try:
        way_in = open_way_in(ctx.cluster, ctx.ws.state, timeout=10.0,
                             base_dir=ctx.ws.spec.directory)
        try:
            client = open_client(ctx.cluster, host, ctx.ws.state, timeout=10.0,
                                 base_dir=ctx.ws.spec.directory, via=way_in)
        except BaseException:
            if way_in is not None:
                way_in.close()
            raise
        try:
            for command in cleanup_commands(bin_dir(ctx), selector, drained):
                rc, _, err = run_command(client, f"{sudo}env {command}", TIMEOUT_S)
                ctx.record.log(f"verify: after cancel on {host.name}: {command} -> rc {rc}"
                               + (f" ({err.strip()})" if rc else ""))
        finally:
            client.close()
            if way_in is not None:
                way_in.close()
    except DeepctlError as error:
        note = (f"verify: could not remove the verify Jobs after the cancel ({error.message}); "
                f"the next `{deepctl_command('verify', ctx.ws.spec.path)}` removes them first")
        ctx.record.log(note)
        ctx.display.message(note)
