"""Load a spec and set up its state directory: the first step of almost every command."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from deepctl.inventory import render_inventory, write_inventory
from deepctl.spec.loader import LoadedSpec, load_spec
from deepctl.spec.models import Cluster
from deepctl.state import StateDir


@dataclass
class Workspace:
    spec: LoadedSpec
    state: StateDir

    @property
    def cluster(self) -> Cluster:
        return self.spec.cluster

    def render_inventory(self) -> list[Path]:
        """Render the Kubespray inventory into the state directory (atomic, 0600)."""
        files = render_inventory(self.cluster, self.spec.path.name)
        return write_inventory(self.state.inventory_dir, files)


def open_workspace(
    spec_path: Path, state_dir: Path | None = None, *, strict: bool = False, create: bool = True,
    stdin_ok: bool = False,
) -> Workspace:
    loaded = load_spec(spec_path, strict=strict, stdin_ok=stdin_ok)
    state = StateDir.for_spec(loaded.path, loaded.cluster.name, state_dir)
    if create:
        state.create()
    return Workspace(loaded, state)
