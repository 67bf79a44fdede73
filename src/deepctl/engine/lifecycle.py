"""``reset``, ``upgrade`` and ``kubeconfig``: whole-cluster operations around Kubespray."""

from __future__ import annotations

import re
from pathlib import Path

from deepctl.engine.display import Display
from deepctl.engine.plan import Plan, build_plan
from deepctl.engine.runner import Ledgered
from deepctl.engine.session import NO_SELECTION, Operation, Selection, run_operation
from deepctl.errors import StateError, UsageError
from deepctl.executor.target import with_executor
from deepctl.fsutil import atomic_write
from deepctl.kubespray.release import load_release
from deepctl.kubespray.source import KubesprayTree
from deepctl.shellwords import deepctl_command
from deepctl.stages.sequences import (
    DEPLOY_LEDGER_PREFIX,
    deploy_stages,
    reset_stages,
    upgrade_stages,
)
from deepctl.state.record import RunRecord
from deepctl.workspace import Workspace, open_workspace

SERVER = re.compile(r"^(\s*server:\s*)https://([^:/\s]+|\[[^\]]+\])(:\d+)?", re.MULTILINE)


def reset_operation(ws: Workspace) -> Operation:
    return Operation("reset", reset_stages(), deepctl_command("reset", ws.spec.path, "--yes"),
                     ledger_prefix="reset/", forget_on_success=True)


def reset(ws: Workspace, display: Display) -> RunRecord:
    """Kubespray ``reset.yml`` on every host; the state forgets the finished stages."""
    return run_operation(ws, reset_operation(ws), display)


def minor(version: str) -> tuple[int, int]:
    parts = version.lstrip("v").split(".")
    try:
        return int(parts[0]), int(parts[1])
    except (IndexError, ValueError):
        raise UsageError(f"{version!r} is not a Kubernetes version like 1.35.4") from None


def _patch(version: str) -> int:
    parts = version.split(".")
    return int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else 0


def version_ranges(versions: list[str]) -> str:
    """Every version of ``versions``, none left out, as ranges per minor (pure):
    "1.35.0-1.35.4, 1.34.0-1.34.7" (as validate says it); newest minor first."""
    by_minor: dict[tuple[int, int], list[int]] = {}
    for version in versions:
        by_minor.setdefault(minor(version), []).append(_patch(version))
    parts = []
    for (major, mnr), patches in sorted(by_minor.items(), reverse=True):
        patches.sort()
        if patches == list(range(patches[0], patches[-1] + 1)) and len(patches) > 1:
            parts.append(f"{major}.{mnr}.{patches[0]}-{major}.{mnr}.{patches[-1]}")
        else:
            parts.append(", ".join(f"{major}.{mnr}.{p}" for p in patches))
    return ", ".join(parts)


def next_steps(current: str, supported: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """The versions one upgrade may go to from ``current`` (pure), newest first: those of
    the next minor, and newer patches of the current minor."""
    cur = minor(current)
    following = [v for v in supported if minor(v) == (cur[0], cur[1] + 1)]
    patches = [v for v in supported if minor(v) == cur and _patch(v) > _patch(current)]
    return following, patches


def steps_hint(current: str, tag: str, supported: tuple[str, ...]) -> str:
    """What an upgrade from ``current`` may target, and every version Kubespray supports."""
    following, patches = next_steps(current, supported)
    steps = []
    if following:
        steps.append(f"{following[0]} (the newest of the next minor: "
                     f"{version_ranges(following)})" if len(following) > 1 else following[0])
    if patches:
        steps.append(f"a newer patch: {version_ranges(patches)}")
    said = (f"from {current} upgrade to " + " or ".join(steps) if steps
            else f"{current} has no newer version Kubespray {tag} supports")
    return (f"{said}; Kubespray {tag} supports {len(supported)} versions: "
            f"{version_ranges(list(supported))}")


def check_upgrade(current: str, target: str, tag: str) -> str:
    """The target version without a leading v, if it is a one-minor step Kubespray supports."""
    target = target.lstrip("v")
    supported = load_release(tag).supported_versions["amd64"]
    hint = steps_hint(current, tag, supported)
    if target not in supported:
        minor(target)  # "not a Kubernetes version like 1.35.4" first
        raise UsageError(f"Kubernetes {target} is not supported by Kubespray {tag}", hint=hint)
    (cur_major, cur_minor), (new_major, new_minor) = minor(current), minor(target)
    if (new_major, new_minor, _patch(target)) <= (cur_major, cur_minor, _patch(current)):
        raise UsageError(f"{target} is not newer than the current {current}", hint=hint)
    if new_major != cur_major or new_minor - cur_minor > 1:
        following, _ = next_steps(current, supported)
        first = following[0] if following else f"{cur_major}.{cur_minor + 1}.x"
        raise UsageError(f"upgrade one minor version at a time: {current} -> {first} first, "
                         f"then {target}", hint=hint)
    return target


def upgrade_operation(ws: Workspace, to: str, selection: Selection = NO_SELECTION) -> Operation:
    target = check_upgrade(ws.cluster.spec.kubernetes.version, to,
                           ws.cluster.spec.kubespray.version)
    return Operation("upgrade", upgrade_stages(target),
                     deepctl_command("upgrade", ws.spec.path, "--to", target, "--yes"),
                     selection, params={"to": target}, in_order=True,
                     ledger_prefix="upgrade/", forget_on_success=True,
                     establishes_in=Ledgered(deploy_stages(), DEPLOY_LEDGER_PREFIX))


def upgrade(spec: Path, state_dir: Path | None, to: str, display: Display,
            selection: Selection = NO_SELECTION, executor: str | None = None) -> RunRecord:
    ws = with_executor(open_workspace(spec, state_dir, create=False), executor)  # lock: creates
    return run_operation(ws, upgrade_operation(ws, to, selection), display)


def plan_of(ws: Workspace, op: Operation, tree: KubesprayTree | None) -> Plan:
    return build_plan(ws, tree, op)


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
