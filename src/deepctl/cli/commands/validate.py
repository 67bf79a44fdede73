"""``deepctl validate``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.markup import escape

from deepctl.cli.support import print_json, stderr, stdout
from deepctl.errors import SpecError, SpecProblem
from deepctl.kubespray import source as kubespray_source
from deepctl.kubespray.validate import KubesprayCheckResult, run_kubespray_validation
from deepctl.kubevars.render import render_hosts
from deepctl.shellwords import deepctl_command
from deepctl.ssh.spec_keys import key_spec_problems
from deepctl.workspace import Workspace, open_workspace


def summary(ws: Workspace) -> str:
    c = ws.cluster
    return (
        f"cluster {c.name!r}: {len(c.spec.hosts)} hosts ({len(c.control_plane)} control-plane, "
        f"{len(c.etcd)} etcd, {len(c.workers)} worker, {len(c.gpu_hosts)} with GPUs), "
        f"Kubernetes {c.spec.kubernetes.version}"
    )


def run(spec: Path, *, state_dir: Path | None, strict: bool, as_json: bool, kubespray: bool) -> None:
    ws = open_workspace(spec, state_dir, strict=strict, stdin_ok=True, create=False)
    # A key that OpenSSH would refuse or that is not on this machine: a warning (an error
    # with --strict, as every warning); preflight and deploy refuse it before connecting.
    keys = key_spec_problems(ws.spec, "error" if strict else "warning")
    if strict and keys:
        raise SpecError(f"{ws.spec.path}: {len(keys)} problem{'s' if len(keys) != 1 else ''} "
                        "found", keys, hint="fix the fields above, then run "
                        f"`{deepctl_command('validate', ws.spec.path)}` again")
    ws.spec.warnings.extend(keys)
    ws.state.create()  # only for a spec that passed: an invalid one renders nothing
    written = ws.render_inventory()
    tree = kubespray_source.find(ws.cluster, ws.spec.directory) if kubespray else None
    check: KubesprayCheckResult | None = None
    if tree is not None:
        err = stderr()
        check = run_kubespray_validation(
            ws.state, tree, render_hosts(ws.cluster),
            progress=lambda text: err.print(f"  {escape(text)}"))
    report: dict[str, Any] = {
        "valid": check is None or check.ok,
        "spec": str(ws.spec.path),
        "cluster": ws.cluster.name,
        "stateDir": str(ws.state.root),
        "warnings": [w.to_json() for w in ws.spec.warnings],
        "inventory": [str(p) for p in written],
        "kubespray": {
            "ran": check is not None,
            "source": tree.describe() if tree else None,
            "ok": check.ok if check else None,
            "failures": [f.__dict__ for f in check.failures] if check else [],
            "hostsChecked": check.hosts_checked if check else None,
        },
    }
    failed = check is not None and not check.ok
    if as_json:
        if not failed:  # a failure is printed once, as the error document below
            print_json(report)
    else:
        _print_report(ws, written, tree, check, kubespray)
    if check is not None and failed:
        problems = [SpecProblem("", text, file=str(ws.spec.path)) for text in check.problems()]
        raise SpecError(
            "Kubespray's inventory validation rejected the rendered inventory",
            problems,
            hint=f"Ansible output is in {check.artifact_dir}",
        )


def _print_report(
    ws: Workspace,
    written: list[Path],
    tree: kubespray_source.KubesprayTree | None,
    check: KubesprayCheckResult | None,
    wanted: bool,
) -> None:
    console = stdout()
    for warning in ws.spec.warnings:
        console.print(f"[yellow]{escape(warning.format())}[/]")
    console.print(f"[green]✓[/] {escape(str(ws.spec.path))} passes deepctl's checks: {escape(summary(ws))}")
    console.print(f"  inventory: {escape(str(ws.state.inventory_dir))} ({len(written)} files)")
    if not wanted:
        console.print("  Kubespray's own inventory checks: skipped (--no-kubespray)")
    elif tree is None:
        console.print(
            "  Kubespray's own inventory checks: skipped, no Kubespray tree found "
            "(spec.kubespray.path, vendor/kubespray, or `deepctl kubespray fetch`)"
        )
    elif check is not None and check.ok:
        console.print(f"[green]✓[/] Kubespray's own inventory checks passed ({escape(tree.describe())})"
                      + _classes_note(check))


def _classes_note(check: KubesprayCheckResult) -> str:
    if check.hosts_checked >= check.hosts_total:
        return ""
    return (f", run on {check.hosts_checked} of {check.hosts_total} hosts: one per set of "
            "hosts with the same groups and variables")
