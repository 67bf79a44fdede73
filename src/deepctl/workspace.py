"""Load a spec and set up its state directory: the first step of almost every command."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from deepctl.clusterspec.loader import LoadedSpec, load_spec
from deepctl.clusterspec.models import Cluster
from deepctl.kubevars.render import render_inventory, write_inventory
from deepctl.state import StateDir


@dataclass
class Workspace:
    spec: LoadedSpec
    state: StateDir

    @property
    def cluster(self) -> Cluster:
        return self.spec.cluster

    @cached_property
    def inventory(self) -> dict[str, str]:
        """The spec rendered as a Kubespray inventory (file name -> text), rendered once: a
        spec that changes during a run is a new :class:`Workspace`."""
        return render_inventory(self.cluster, self.spec.path.name)

    def render_inventory(self) -> list[Path]:
        """Write the Kubespray inventory into the state directory (atomic, 0600)."""
        return write_inventory(self.state.inventory_dir, self.inventory)


def open_workspace(
    spec_path: Path, state_dir: Path | None = None, *, strict: bool = False, create: bool = True,
    stdin_ok: bool = False,
) -> Workspace:
    loaded = load_spec(spec_path, strict=strict, stdin_ok=stdin_ok)
    state = StateDir.for_spec(loaded.path, loaded.cluster.name, state_dir)
    if create:
        state.create()
    return Workspace(loaded, state)
