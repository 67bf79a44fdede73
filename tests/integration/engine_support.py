"""Helpers for the deploy-engine integration tests: a spec pointing at the Kubespray stand-in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import yaml

from tests.harness import HostFarm, TestHost

REPO = Path(__file__).resolve().parents[2]
STANDIN = REPO / "tests" / "fixtures" / "kubespray-standin"
DEEPCTL = Path(sys.executable).parent / "deepctl"


def host_entry(host: TestHost, roles: Sequence[str], farm: HostFarm) -> dict[str, object]:
    return {"name": host.name, "address": host.address, "roles": list(roles),
            "ssh": {"port": host.port}}


def write_spec(tmp_path: Path, farm: HostFarm, hosts: dict[TestHost, Sequence[str]],
               verify_on: TestHost, text_prefix: str = "", text_suffix: str = "",
               kube_version: str | None = None, *, kubespray: Path = STANDIN,
               ssh: dict[str, object] | None = None, addons: dict[str, object] | None = None,
               ) -> Path:
    """A spec for ``hosts`` (host -> roles) driving the stand-in; known_hosts pre-filled.

    ``ssh`` is merged into ``spec.ssh`` (a bastion, say), ``addons`` into ``spec.addons``.
    """
    standin_dir = tmp_path / "standin"
    standin_dir.mkdir(exist_ok=True)
    spec = {
        "apiVersion": "deepctl/v1alpha1",
        "kind": "Cluster",
        "metadata": {"name": "lab"},
        "spec": {
            "kubespray": {"path": str(kubespray)},
            "ssh": {"user": "root", "identityFile": str(farm.client_key), **(ssh or {})},
            "hosts": [host_entry(h, roles, farm) for h, roles in hosts.items()],
            "addons": {"gpu": {"enabled": False}, "monitoring": {"enabled": False},
                       **(addons or {})},
            "kubesprayVars": {"standin_dir": str(standin_dir),
                              "bin_dir": str(verify_on.kube_bin_dir)},
        },
    }
    if kube_version:
        spec["spec"]["kubernetes"] = {"version": kube_version}  # type: ignore[index]
    path = tmp_path / "cluster.yaml"
    body = yaml.safe_dump(spec, sort_keys=False)
    path.write_text(text_prefix + body + text_suffix, encoding="utf-8")
    state = tmp_path / ".deepctl" / "lab"
    state.mkdir(parents=True, exist_ok=True, mode=0o700)
    (state / "known_hosts").write_text(farm.known_hosts(list(hosts)), encoding="ascii")
    ready_nodes(verify_on, [h.name for h in hosts])
    return path


def ready_nodes(host: TestHost, names: Sequence[str]) -> None:
    """Script the kubectl stand-in on ``host`` to report ``names`` as Ready nodes."""
    items = [{"metadata": {"name": n},
              "status": {"conditions": [{"type": "Ready", "status": "True"}]}} for n in names]
    host.set_kube_response("kubectl", "", stdout=json.dumps({"items": items}))


def markers(tmp_path: Path, host: str) -> list[str]:
    """The stand-in playbooks that ran on ``host`` (first word of each marker line)."""
    path = tmp_path / "standin" / "markers" / f"{host}.log"
    if not path.exists():
        return []
    return [line.split()[0] for line in path.read_text(encoding="utf-8").splitlines() if line]


def deepctl(*args: str, cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run([str(DEEPCTL), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env, stdin=subprocess.DEVNULL)


def run_state(tmp_path: Path, run_id: str | None = None) -> dict[str, object]:
    runs = sorted((tmp_path / ".deepctl" / "lab" / "runs").iterdir())
    target = runs[-1] if run_id is None else next(r for r in runs if r.name == run_id)
    data: dict[str, object] = json.loads((target / "state.json").read_text())
    return data


def wait_for(predicate: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("timed out waiting")
