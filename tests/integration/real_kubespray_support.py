"""Shared helpers for the tests and the benchmark that run the REAL Kubespray.

The tree comes from ``DEEPCTL_TEST_KUBESPRAY`` (``.ci/run`` points it at
``../shared/kubespray-v2.31.0``); tests skip with a reason without it. Hosts are isolated test
hosts (``HostProfile(isolated=True)``): real Kubespray installs packages and writes ``/etc``
there, never on the machine running the tests. Every download URL points at a loopback
address where nothing listens, so a run stops at Kubespray's first download and nothing but
the Debian package installs leaves 127.0.0.0/8.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from tests.harness import HostFarm, TestHost
from tests.harness.addresses import free_port

KUBESPRAY_ENV = "DEEPCTL_TEST_KUBESPRAY"
REPO = Path(__file__).resolve().parents[2]
DEFAULT_TREE = REPO.parent / "shared" / "kubespray-v2.31.0"
# Kubespray settings for what these test hosts are not, each with its reason:
TEST_HOST_VARS: dict[str, Any] = {
    # The hosts share this machine's network: Kubespray's fallback access_ip is the machine's
    # own interface address, and "Stop if access_ip is not pingable" would ping it. Tests
    # reach nothing but 127.0.0.0/8, so that one check is off.
    "ping_access_ip": False,
}
# nodelocaldns needs the "dummy" kernel module (preinstall's "Check dummy module" reads
# /proc/modules): the hosts cannot load modules (sys_module dropped, and the kernel here may
# have no module support at all). Its typed field: spec.kubernetes.nodeLocalDns.enabled.
TEST_HOST_KUBERNETES: dict[str, Any] = {"nodeLocalDns": {"enabled": False}}
URL_ROOTS = ("github_url", "dl_k8s_io_url", "storage_googleapis_url", "get_helm_url")


def real_kubespray_tree() -> Path | None:
    """The real Kubespray tree named by ``DEEPCTL_TEST_KUBESPRAY``, or ``None``."""
    value = os.environ.get(KUBESPRAY_ENV)
    if not value:
        return None
    path = Path(value)
    return path if (path / "cluster.yml").is_file() else None


def skip_reason() -> str:
    return (f"the real Kubespray tree is not configured: set {KUBESPRAY_ENV} to a Kubespray "
            f"v2.31.0 checkout (.ci/run sets it to {DEFAULT_TREE}; or `deepctl kubespray fetch`, "
            "or `git submodule update --init vendor/kubespray`)")


def closed_loopback_url() -> str:
    """``http://127.0.0.1:PORT`` where nothing listens (the port was free a moment ago)."""
    return f"http://127.0.0.1:{free_port('127.0.0.1')}"


def mirror_vars(base: str) -> dict[str, str]:
    """Kubespray's four download roots pointed under ``base`` (a mirror layout like offline.yml's)."""
    return {name: f"{base}/{name.removesuffix('_url').replace('_', '.')}" for name in URL_ROOTS}


def real_spec(tmp_path: Path, farm: HostFarm, hosts: Mapping[TestHost, Sequence[str]], tree: Path,
              kubespray_vars: Mapping[str, Any], *, name: str = "lab",
              extra: Mapping[str, Any] | None = None) -> Path:
    """Write ``cluster.yaml`` for ``hosts`` (host -> roles) driving the real tree; known_hosts set."""
    spec: dict[str, Any] = {
        "apiVersion": "deepctl/v1alpha1",
        "kind": "Cluster",
        "metadata": {"name": name},
        "spec": {
            "kubespray": {"path": str(tree)},
            "ssh": {"user": "root", "identityFile": str(farm.client_key)},
            "hosts": [{"name": h.name, "address": h.address, "roles": list(roles),
                       "ssh": {"port": h.port}} for h, roles in hosts.items()],
            "kubernetes": dict(TEST_HOST_KUBERNETES),
            "addons": {"gpu": {"enabled": False}, "monitoring": {"enabled": False}},
            "kubesprayVars": {**TEST_HOST_VARS, **kubespray_vars},
            **(extra or {}),
        },
    }
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    state = tmp_path / ".deepctl" / name
    state.mkdir(parents=True, exist_ok=True, mode=0o700)
    (state / "known_hosts").write_text(farm.known_hosts(list(hosts)), encoding="ascii")
    return path


def run_dirs(tmp_path: Path, name: str = "lab") -> list[Path]:
    runs = tmp_path / ".deepctl" / name / "runs"
    return sorted(runs.iterdir()) if runs.is_dir() else []


def job_events(run_dir: Path) -> list[dict[str, Any]]:
    """Every ansible-runner job event written under ``run_dir``, in order per playbook run."""
    events = []
    for path in sorted(run_dir.rglob("job_events/*.json"),
                       key=lambda p: (str(p.parent), int(p.name.split("-", 1)[0]))):
        events.append(json.loads(path.read_text(encoding="utf-8")))
    return events


FIXTURE_EVENTS = ("runner_on_failed", "runner_item_on_failed", "runner_on_unreachable",
                  "runner_retry", "playbook_on_stats")


def sets_cached_file(event: dict[str, Any]) -> bool:
    """Kubespray's ``Download_file | Set pathname of cached file`` result: it names the file a
    hidden (no_log) download then fails on (deepctl.ansible.explain reads it)."""
    res = (event.get("event_data") or {}).get("res") or {}
    facts = res.get("ansible_facts") if isinstance(res, dict) else None
    return (event.get("event") == "runner_on_ok" and isinstance(facts, dict)
            and "file_path_cached" in facts)


def save_failure_events(run_dir: Path, dest: Path) -> list[Path]:
    """Copy a run's failure-related job events (as ansible-runner wrote them) into ``dest``.

    Used to refresh ``tests/fixtures/real-kubespray-events/``:
    ``python -c 'from tests.integration.real_kubespray_support import *; ...'``.
    """
    dest.mkdir(parents=True, exist_ok=True)
    saved = []
    for path in sorted(run_dir.rglob("job_events/*.json")):
        event = json.loads(path.read_text(encoding="utf-8"))
        if event.get("event") in FIXTURE_EVENTS or sets_cached_file(event):
            target = dest / f"{path.parent.parent.name}-{path.name}"
            target.write_text(json.dumps(event, indent=1, sort_keys=True) + "\n", encoding="utf-8")
            saved.append(target)
    return saved
