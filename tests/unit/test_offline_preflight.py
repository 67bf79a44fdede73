"""Preflight with spec.offline: the mirrors probe, run for real.

The facts script deepctl sends to a host (with its offline probes) runs here under ``sh`` and
probes loopback HTTP servers: a files mirror in the files_repo layout and a registry ``/v2/``
endpoint. Its output goes through the real parser and checks.
"""

from __future__ import annotations

import http.server
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml

from deepctl.clusterspec.models import Cluster
from deepctl.preflight import script
from deepctl.preflight.model import HostFacts
from deepctl.preflight.offline import (
    check_offline,
    parse_probes,
    probe_file_url,
    probe_script,
    registry_url,
)
from tests.specs import MINIMAL_SPEC
from tests.tls_support import make_ca

KUBEADM_PATH = "/files/dl.k8s.io/release/v1.35.4/bin/linux/amd64/kubeadm"


class Handler(http.server.BaseHTTPRequestHandler):
    """A files mirror (one file) and a registry that wants a login, on one loopback port."""

    files: ClassVar[set[str]] = {KUBEADM_PATH}

    def _answer(self, body: bool) -> None:
        if self.path in self.files:
            self.send_response(200)
        elif self.path == "/v2/":
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="registry"')
        else:
            self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_HEAD(self) -> None:
        self._answer(False)

    def do_GET(self) -> None:
        self._answer(True)

    def log_message(self, format: str, *args: Any) -> None:
        self.server.requests.append(f"{self.command} {self.path}")  # type: ignore[attr-defined]


@pytest.fixture
def mirror() -> Iterator[http.server.ThreadingHTTPServer]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.requests = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def cluster(port: int, registry_port: int | None = None, insecure: bool = True, **extra: Any) -> Cluster:
    data = yaml.safe_load(MINIMAL_SPEC)
    data["spec"]["addons"]["monitoring"] = {"enabled": False}
    data["spec"]["offline"] = {"files": f"http://127.0.0.1:{port}/files",
                               "registry": f"127.0.0.1:{registry_port or port}",
                               "insecureRegistry": insecure, **extra}
    return Cluster.model_validate(data)


def probe(cluster: Cluster) -> dict[str, tuple[str, str, str | None]]:
    """Run the facts script with its offline probes under sh here; findings by check."""
    text = script.build_script("127.0.0.1", None, False, extra=probe_script(cluster))
    out = subprocess.run(["sh", "-s"], input=text, capture_output=True, text=True, timeout=60)
    assert "@@end" in out.stdout, out.stderr
    facts = script.parse_output(out.stdout, internal_address="127.0.0.1", peer=None, local_time=None)
    host = cluster.spec.hosts[0]
    if facts.arch != "x86_64":
        pytest.skip(f"the probe file is kubeadm for this host's architecture ({facts.arch})")
    return {f.check: (f.status, f.message, f.hint) for f in check_offline(cluster, host, facts)}


def test_both_mirrors_answer(mirror: http.server.ThreadingHTTPServer) -> None:
    port = mirror.server_address[1]
    found = probe(cluster(port))
    assert found["offline.files"][:2] == ("ok", f"files mirror serves http://127.0.0.1:{port}{KUBEADM_PATH}")
    assert found["offline.registry"][:2] == ("ok", f"registry answers at http://127.0.0.1:{port}/v2/")
    assert mirror.requests == [f"HEAD {KUBEADM_PATH}", "GET /v2/"]  # type: ignore[attr-defined]


def test_a_file_missing_from_the_mirror(
    mirror: http.server.ThreadingHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Handler, "files", set())
    port = mirror.server_address[1]
    status, message, hint = probe(cluster(port))["offline.files"]
    assert (status, message) == ("error", f"files mirror answered HTTP 404 for http://127.0.0.1:{port}{KUBEADM_PATH}")
    assert hint is not None and "artifacts pull" in hint and "spec.offline.files" in hint


def test_a_registry_nobody_serves(mirror: http.server.ThreadingHTTPServer) -> None:
    import socket

    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        closed = free.getsockname()[1]
    status, message, hint = probe(cluster(mirror.server_address[1], closed))["offline.registry"]
    assert status == "error"
    assert message.startswith(f"cannot reach the registry at http://127.0.0.1:{closed}/v2/: error URLError")
    assert "Connection refused" in message
    assert hint is not None and "firewalls" in hint


def test_an_http_registry_taken_for_https(mirror: http.server.ThreadingHTTPServer) -> None:
    status, message, hint = probe(cluster(mirror.server_address[1], insecure=False))["offline.registry"]
    assert status == "error" and "https://127.0.0.1:" in message
    assert hint is not None and "insecureRegistry: true" in hint


def test_urls_and_parsing() -> None:
    c = cluster(8080, 5000, insecure=False)
    assert probe_file_url(c) == "http://127.0.0.1:8080/files/dl.k8s.io/release/v1.35.4/bin/linux/@ARCH@/kubeadm"
    assert registry_url(c) == "https://127.0.0.1:5000/v2/"
    sections = {"offline_files": "@url http://m/f\nstatus 200", "offline_registry": "@url u\nerror X y"}
    assert parse_probes(sections) == {"files": {"url": "http://m/f", "result": "status 200"},
                                      "registry": {"url": "u", "result": "error X y"}}


def test_nothing_without_offline() -> None:
    online = Cluster.model_validate(yaml.safe_load(MINIMAL_SPEC))
    assert probe_script(online) == ""
    assert check_offline(online, online.spec.hosts[0], HostFacts()) == []
    assert "@@offline" not in script.build_script("127.0.0.1", None, False, extra=probe_script(online))


def test_the_ca_travels_in_the_script(tmp_path: Path) -> None:
    ca = make_ca(tmp_path).cert
    from deepctl.preflight.offline import read_ca

    c = cluster(8080, caFile=str(ca))
    text = probe_script(c, read_ca(c))
    assert f"OFFLINE_CA_PEM='{ca.read_text().strip()}'" in text


@pytest.fixture
def tls_registry(tmp_path: Path) -> Iterator[int]:
    """A registry ``/v2/`` over HTTPS, its certificate signed by a CA made here."""
    import ssl

    signer = make_ca(tmp_path / "signer", "site CA")
    cert, key = signer.server_cert(tmp_path / "server")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.requests = []  # type: ignore[attr-defined]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_a_set_ca_file_that_does_not_verify_the_registry_is_said_so(
    tmp_path: Path, mirror: http.server.ThreadingHTTPServer, tls_registry: int
) -> None:
    """Issue 27 §5: with caFile set, "set spec.offline.caFile" is not the hint."""
    other = make_ca(tmp_path / "other", "another CA").cert
    port = mirror.server_address[1]
    status, message, hint = probe(cluster(port, tls_registry, insecure=False,
                                          caFile=str(other)))["offline.registry"]
    assert status == "error" and "CERTIFICATE_VERIFY_FAILED" in message
    assert hint is not None and "set spec.offline.caFile to" not in hint
    assert f"the CA in spec.offline.caFile ({other}) did not verify the registry's certificate" in hint
    status, _, hint = probe(cluster(port, tls_registry, insecure=False))["offline.registry"]
    assert status == "error" and hint is not None and "set spec.offline.caFile to" in hint
