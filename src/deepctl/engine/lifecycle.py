"""``reset``, ``upgrade`` and ``kubeconfig``: whole-cluster operations around Kubespray."""

from __future__ import annotations

import re
from pathlib import Path

from deepctl.engine.display import Display
from deepctl.engine.plan import Plan, build_plan
from deepctl.engine.session import NO_SELECTION, Operation, Selection, run_operation
from deepctl.errors import StateError, UsageError
from deepctl.fsutil import atomic_write
from deepctl.kubespray_release import load_release
from deepctl.kubespray_source import KubesprayTree
from deepctl.shellwords import deepctl_command
from deepctl.spec_keys import require_usable_keys
from deepctl.stages.sequences import reset_stages, upgrade_stages
from deepctl.state.record import RunRecord
from deepctl.workspace import Workspace, open_workspace

SERVER = re.compile(r"^(\s*server:\s*)https://([^:/\s]+|\[[^\]]+\])(:\d+)?", re.MULTILINE)


def reset_operation(ws: Workspace) -> Operation:
    return Operation("reset", reset_stages(), deepctl_command("reset", ws.spec.path, "--yes"))


def reset(spec: Path, state_dir: Path | None, display: Display) -> RunRecord:
    """Kubespray ``reset.yml`` on every host; the state forgets the finished stages."""
    ws = open_workspace(spec, state_dir, create=False)  # the lock creates it
    return run_operation(ws, reset_operation(ws), display)


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


def upgrade_operation(ws: Workspace, to: str, selection: Selection = NO_SELECTION) -> Operation:
    target = check_upgrade(ws.cluster.spec.kubernetes.version, to,
                           ws.cluster.spec.kubespray.version)
    return Operation("upgrade", upgrade_stages(target),
                     deepctl_command("upgrade", ws.spec.path, "--to", target, "--yes"),
                     selection, params={"to": target}, in_order=True)


def upgrade(spec: Path, state_dir: Path | None, to: str, display: Display,
            selection: Selection = NO_SELECTION) -> RunRecord:
    ws = open_workspace(spec, state_dir, create=False)  # the lock creates it
    op = upgrade_operation(ws, to, selection)
    require_usable_keys(ws.spec)  # one message for a bad key, before any host is contacted
    return run_operation(ws, op, display)


def plan_of(ws: Workspace, op: Operation, tree: KubesprayTree | None) -> Plan:
    return build_plan(ws.cluster, tree, op.stages, op.choices(), command=op.command)


def fix_server(text: str, address: str) -> str:
    """Point every ``server: https://HOST:PORT`` of a kubeconfig at ``address`` (pure)."""
    return SERVER.sub(lambda m: f"{m.group(1)}https://{address}{m.group(3) or ''}", text)


def kubeconfig(spec: Path, state_dir: Path | None, output: Path | None) -> Path:
    """The admin kubeconfig's path, or a copy at ``output`` that reaches the API from here."""
    ws = open_workspace(spec, state_dir, create=False)
    source = ws.state.kubeconfig
    if not source.is_file():
        raise StateError(f"no admin kubeconfig at {source}",
                         hint=f"deploy first: `{deepctl_command('deploy', spec)}`")
    if output is None:
        return source
    lb = ws.cluster.spec.kubernetes.api_server_load_balancer
    address = lb.address if lb else ws.cluster.control_plane[0].address
    atomic_write(output, fix_server(source.read_text(encoding="utf-8"), address), 0o600)
    return output
