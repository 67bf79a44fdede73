"""``deepctl kubespray fetch``."""

from __future__ import annotations

from deepctl.cli.support import stdout
from deepctl.consoles import escape
from deepctl.kubespray import source as kubespray_source


def fetch(tag: str, repo: str | None) -> None:
    tree = kubespray_source.fetch(tag, repo)
    commit = kubespray_source.head_commit(tree)
    pinned = kubespray_source.pinned_commit(tag)
    console = stdout()
    console.print(escape(f"Kubespray {tag} is at {tree.path}" + (f" (commit {commit})" if commit else "")))
    if commit and pinned and commit != pinned:
        console.print(
            f"[yellow]warning:[/] {escape(f'expected commit {pinned} for {tag}, found {commit}')}"
        )
