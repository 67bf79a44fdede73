"""`deepctl kubeconfig`: the admin kubeconfig, or a copy that reaches the API from here."""

from __future__ import annotations

from pathlib import Path

from deepctl.cli.support import print_json


def kubeconfig(spec: Path, *, state_dir: Path | None, output: Path | None,
               as_json: bool) -> None:
    from deepctl.engine.lifecycle import kubeconfig as engine_kubeconfig

    path = engine_kubeconfig(spec, state_dir, output)
    if as_json:
        print_json({"kubeconfig": str(path)})
    else:
        print(path)
