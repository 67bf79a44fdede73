"""``reset``, ``upgrade`` and ``kubeconfig``: whole-cluster operations around Kubespray."""

from __future__ import annotations

import re
from pathlib import Path

from deepctl.engine.display import Display
from deepctl.engine.nodes import mark_cluster_current
from deepctl.engine.pipeline import clear_ledger
from deepctl.engine.runrecord import RunRecord
from deepctl.engine.session import run_session
from deepctl.errors import StateError, UsageError
from deepctl.fsutil import atomic_write
from deepctl.kubespray_release import load_release
from deepctl.spec.edit import set_kube_version_text, write_spec
from deepctl.stages.base import StageContext
from deepctl.workspace import open_workspace

SERVER = re.compile(r"^(\s*server:\s*)https://([^:/\s]+|\[[^\]]+\])(:\d+)?", re.MULTILINE)


def reset(spec: Path, state_dir: Path | None, display: Display) -> RunRecord:
    """Kubespray ``reset.yml`` on every host; the state forgets the finished stages."""
    ws = open_workspace(spec, state_dir, create=False)  # the lock creates it

    def body(ctx: StageContext) -> None:
        ctx.record.set_stage("kubespray", "running")
        ctx.ansible.run("kubespray", "reset.yml", extravars={"reset_confirmation": "yes"})
        ctx.record.set_stage("kubespray", "succeeded")
        clear_ledger(ctx.ws.state)
        ctx.ws.state.kubeconfig.unlink(missing_ok=True)

    return run_session(ws, "reset", body, display=display,
                       resume_hint=f"deepctl reset {spec} --yes")


def minor(version: str) -> tuple[int, int]:
    parts = version.lstrip("v").split(".")
    try:
        return int(parts[0]), int(parts[1])
    except (IndexError, ValueError):
        raise UsageError(f"{version!r} is not a Kubernetes version like 1.35.4") from None


def check_upgrade(current: str, target: str, tag: str) -> str:
    """The target version without a leading v, if it is a one-minor step Kubespray supports."""
    target = target.lstrip("v")
    release = load_release(tag)
    if not release.supports(target):
        raise UsageError(f"Kubernetes {target} is not supported by Kubespray {tag}",
                         hint=f"supported: {', '.join(release.supported_versions['amd64'][:8])}")
    (cur_major, cur_minor), (new_major, new_minor) = minor(current), minor(target)
    if (new_major, new_minor) < (cur_major, cur_minor) or target == current:
        raise UsageError(f"{target} is not newer than the current {current}")
    if new_major != cur_major or new_minor - cur_minor > 1:
        raise UsageError(f"upgrade one minor version at a time: {current} -> "
                         f"{cur_major}.{cur_minor + 1}.x first")
    return target


def upgrade(spec: Path, state_dir: Path | None, to: str, display: Display) -> RunRecord:
    ws = open_workspace(spec, state_dir, create=False)  # the lock creates it
    target = check_upgrade(ws.cluster.spec.kubernetes.version, to,
                           ws.cluster.spec.kubespray.version)

    def body(ctx: StageContext) -> None:
        ctx.record.set_stage("kubespray", "running")
        ctx.ansible.run("kubespray", "upgrade-cluster.yml", extravars={"kube_version": target})
        ctx.record.set_stage("kubespray", "succeeded")
        text = ctx.ws.spec.path.read_text(encoding="utf-8")
        write_spec(ctx.ws.spec.path, set_kube_version_text(text, target))
        ctx.ws = open_workspace(ctx.ws.spec.path, ctx.ws.state.root)
        ctx.ws.render_inventory()
        mark_cluster_current(ctx)

    return run_session(ws, "upgrade", body, display=display, args={"to": target},
                       resume_hint=f"deepctl upgrade {spec} --to {target}")


def fix_server(text: str, address: str) -> str:
    """Point every ``server: https://HOST:PORT`` of a kubeconfig at ``address`` (pure)."""
    return SERVER.sub(lambda m: f"{m.group(1)}https://{address}{m.group(3) or ''}", text)


def kubeconfig(spec: Path, state_dir: Path | None, output: Path | None) -> Path:
    """The admin kubeconfig's path, or a copy at ``output`` that reaches the API from here."""
    ws = open_workspace(spec, state_dir, create=False)
    source = ws.state.kubeconfig
    if not source.is_file():
        raise StateError(f"no admin kubeconfig at {source}",
                         hint=f"deploy first: `deepctl deploy {spec}`")
    if output is None:
        return source
    lb = ws.cluster.spec.kubernetes.api_server_load_balancer
    address = lb.address if lb else ws.cluster.control_plane[0].address
    atomic_write(output, fix_server(source.read_text(encoding="utf-8"), address), 0o600)
    return output
