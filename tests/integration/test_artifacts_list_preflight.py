"""`deepctl preflight` with spec.offline, over real SSH to real-sshd test hosts on loopback.

Every host probes, from its own shell, a loopback files mirror (files_repo layout, served by
Python's http.server from a directory) and a registry ``/v2/`` (a loopback server that answers
like a registry wanting a login). One host's spec points at a registry port where nothing
listens: only the registry check fails, with its hint; the files check still passes.
"""

from __future__ import annotations

import functools
import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from deepctl.preflight import run_preflight
from deepctl.workspace import open_workspace
from tests.harness import HostFarm, HostProfile

pytestmark = pytest.mark.integration

KUBEADM = "dl.k8s.io/release/v1.35.4/bin/linux/amd64/kubeadm"


class MirrorHandler(http.server.SimpleHTTPRequestHandler):
    """Files under /files/ from a directory; /v2/ answers 401 like a registry."""

    def do_GET(self) -> None:
        if self.path == "/v2/":
            self.send_response(401)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        self.server.seen.append((self.command, self.path))  # type: ignore[attr-defined]


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[tuple[int, list[tuple[str, str]]]]:
    root = tmp_path / "mirror"
    (root / "files" / KUBEADM).parent.mkdir(parents=True)
    (root / "files" / KUBEADM).write_bytes(b"kubeadm")
    handler = functools.partial(MirrorHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.seen = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], server.seen  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_spec(tmp: Path, farm: HostFarm, registry: str, port: int) -> Path:
    hosts = [{"name": h.name, "address": h.address, "ssh": {"port": h.port},
              "roles": ["control-plane", "etcd", "worker"] if h.name == "cp1" else ["worker"]}
             for h in (farm["cp1"], farm["wk1"])]
    data = {"apiVersion": "deepctl/v1alpha1", "kind": "Cluster", "metadata": {"name": "lab"},
            "spec": {"ssh": {"user": "root", "identityFile": str(farm.client_key)},
                     "hosts": hosts, "addons": {"gpu": {"enabled": False}, "monitoring": {"enabled": False}},
                     "offline": {"files": f"http://127.0.0.1:{port}/files", "registry": registry,
                                 "insecureRegistry": True}}}
    path = tmp / "cluster.yaml"
    path.write_text(yaml.safe_dump(data))
    state = tmp / "state"
    state.mkdir()
    (state / "known_hosts").write_text(farm.known_hosts())
    return path


def offline_findings(spec: Path) -> dict[str, dict[str, tuple[str, str, str | None]]]:
    report = run_preflight(open_workspace(spec, spec.parent / "state"), timeout=10)
    out: dict[str, dict[str, tuple[str, str, str | None]]] = {}
    for name in ("cp1", "wk1"):
        result = report.host(name)
        assert result is not None
        out[name] = {f.check: (f.status, f.message, f.hint) for f in result.findings
                     if f.check.startswith("offline.")}
    return out


def test_every_host_reaches_both_mirrors(
    ssh_host_farm: HostFarm, mirror: tuple[int, list[tuple[str, str]]], tmp_path: Path
) -> None:
    ssh_host_farm.add_many([HostProfile(name="cp1"), HostProfile(name="wk1")])
    port, seen = mirror
    found = offline_findings(write_spec(tmp_path, ssh_host_farm, f"127.0.0.1:{port}", port))
    for name in ("cp1", "wk1"):
        assert found[name]["offline.files"][:2] == (
            "ok", f"files mirror serves http://127.0.0.1:{port}/files/{KUBEADM}")
        assert found[name]["offline.registry"][:2] == ("ok", f"registry answers at http://127.0.0.1:{port}/v2/")
    assert seen.count(("HEAD", f"/files/{KUBEADM}")) == 2
    assert seen.count(("GET", "/v2/")) == 2


def test_a_registry_that_does_not_answer_fails_with_a_hint(
    ssh_host_farm: HostFarm, mirror: tuple[int, list[tuple[str, str]]], tmp_path: Path
) -> None:
    ssh_host_farm.add_many([HostProfile(name="cp1"), HostProfile(name="wk1")])
    port, _ = mirror
    closed = free_port()
    found = offline_findings(write_spec(tmp_path, ssh_host_farm, f"127.0.0.1:{closed}", port))
    for name in ("cp1", "wk1"):
        assert found[name]["offline.files"][0] == "ok"
        status, message, hint = found[name]["offline.registry"]
        assert status == "error"
        assert message.startswith(f"cannot reach the registry at http://127.0.0.1:{closed}/v2/")
        assert "Connection refused" in message
        assert hint is not None and "firewalls" in hint
