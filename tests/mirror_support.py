"""Real mirror parts for the air-gap tests and benchmark, all on 127.0.0.1.

- :class:`LoopbackUpstream`: a real HTTP server (Python's http.server) serving a directory
  laid out as Kubespray's files_repo (``<host>/<path>``) or a Helm repository; it records
  every path asked for, and can wait before answering (``delay_s``, an internet round trip).
- :class:`LoopbackRegistry`: Debian's ``docker-registry`` (the CNCF distribution registry),
  started with its own config and storage in a temporary directory, plain HTTP.
- :func:`write_tiny_oci_image`, :func:`write_tiny_chart`: content these tests build
  themselves (no internet): one small layer, one small chart of our own.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import subprocess
import tarfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from deepctl.artifacts.model import FileArtifact

LOOPBACK = "127.0.0.1"
DOCKER_REGISTRY = "/usr/bin/docker-registry"


class _Handler(SimpleHTTPRequestHandler):
    requests_seen: list[str]
    delay_s: float = 0.0

    def do_GET(self) -> None:
        self.requests_seen.append(self.path)
        if self.delay_s:
            time.sleep(self.delay_s)
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class LoopbackUpstream:
    """Serves ``root`` over HTTP on 127.0.0.1 until :meth:`close`."""

    def __init__(self, root: Path, delay_s: float = 0.0) -> None:
        self.requests: list[str] = []
        handler = type("Handler", (_Handler,), {"requests_seen": self.requests,
                                                "delay_s": delay_s})
        self.server = ThreadingHTTPServer((LOOPBACK, 0), partial(handler, directory=str(root)))
        self.server.daemon_threads = True
        self.server.request_queue_size = 256
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def write_upstream_files(root: Path, count: int, size: int = 1024,
                         host: str = "dl.example.test") -> list[FileArtifact]:
    """``count`` files under ``root/<host>/...`` and their artifacts (URL: a .test host)."""
    artifacts = []
    for index in range(count):
        rel = f"{host}/release/v1.{index % 7}/bin/tool-{index}"
        data = (f"{index}:".encode() * (size // 2 + 1))[:size]
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        artifacts.append(FileArtifact(f"tool-{index}", f"https://{rel}",
                                      hashlib.sha256(data).hexdigest(), rel))
    return artifacts


def skopeo_missing() -> str | None:
    if shutil.which("skopeo") is None:
        return "skopeo is not installed (apt-get install -y skopeo)"
    if not Path(DOCKER_REGISTRY).exists():
        return "docker-registry is not installed (apt-get install -y docker-registry)"
    return None


class LoopbackRegistry:
    """The real distribution registry on 127.0.0.1:<free port>, storage in ``workdir``."""

    def __init__(self, workdir: Path, tls: tuple[Path, Path] | None = None) -> None:
        """``tls``: (certificate, key) PEM files; the registry then speaks HTTPS only."""
        from tests.harness.addresses import free_port

        self.port = free_port(LOOPBACK)
        self.tls = tls
        workdir.mkdir(parents=True, exist_ok=True)
        config = workdir / "config.yml"
        served = (f"  tls:\n    certificate: {tls[0]}\n    key: {tls[1]}\n" if tls else "")
        config.write_text(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n"
            f"    rootdirectory: {workdir / 'storage'}\n  delete:\n    enabled: true\n"
            f"http:\n  addr: {LOOPBACK}:{self.port}\n{served}", encoding="utf-8")
        self.log = (workdir / "registry.log").open("wb")
        self.process = subprocess.Popen([DOCKER_REGISTRY, "serve", str(config)],
                                        stdout=self.log, stderr=subprocess.STDOUT)
        self._wait_ready()

    @property
    def host(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    def _wait_ready(self) -> None:
        import ssl

        deadline = time.monotonic() + 20
        scheme = "https" if self.tls else "http"
        unverified = ssl._create_unverified_context()  # readiness only
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{scheme}://{self.host}/v2/", timeout=1,
                                            context=unverified):
                    return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.1)
        self.close()
        raise RuntimeError(f"docker-registry did not start on {self.host}")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.log.close()


@contextmanager
def loopback_registry(workdir: Path, tls: tuple[Path, Path] | None = None,
                      ) -> Iterator[LoopbackRegistry]:
    registry = LoopbackRegistry(workdir, tls)
    try:
        yield registry
    finally:
        registry.close()


def _blob(root: Path, data: bytes) -> tuple[str, int]:
    digest = hashlib.sha256(data).hexdigest()
    path = root / "blobs" / "sha256" / digest
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return f"sha256:{digest}", len(data)


def write_tiny_oci_image(root: Path, ref_name: str, text: str = "hello from deepctl\n") -> str:
    """An OCI layout at ``root`` with one amd64 image (one file) named ``ref_name``."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        data = text.encode()
        info = tarfile.TarInfo("hello.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    layer_digest, layer_size = _blob(root, gzip.compress(raw.getvalue(), mtime=0))
    diff_id = "sha256:" + hashlib.sha256(raw.getvalue()).hexdigest()
    config = {"architecture": "amd64", "os": "linux", "config": {},
              "rootfs": {"type": "layers", "diff_ids": [diff_id]}}
    config_digest, config_size = _blob(root, json.dumps(config).encode())
    manifest = {
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config_digest, "size": config_size},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": layer_digest, "size": layer_size}],
    }
    manifest_digest, manifest_size = _blob(root, json.dumps(manifest).encode())
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    index = {"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest,
         "size": manifest_size, "annotations": {"org.opencontainers.image.ref.name": ref_name}}]}
    (root / "index.json").write_text(json.dumps(index))
    return manifest_digest


def push_oci_image(layout: Path, ref_name: str, target: str) -> None:
    """Put a test image into a loopback registry with skopeo (plain HTTP)."""
    subprocess.run(["skopeo", "copy", "--quiet", "--dest-tls-verify=false",
                    f"oci:{layout}:{ref_name}", f"docker://{target}"], check=True)


def skopeo_inspect(ref: str) -> dict[str, Any]:
    result = subprocess.run(["skopeo", "inspect", "--tls-verify=false", f"docker://{ref}"],
                            capture_output=True, text=True, check=True)
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def write_tiny_chart(directory: Path, name: str, version: str) -> Path:
    """A packaged chart of our own (Chart.yaml and one ConfigMap template)."""
    buffer = io.BytesIO()
    files = {
        f"{name}/Chart.yaml": f"apiVersion: v2\nname: {name}\nversion: {version}\n",
        f"{name}/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
    }
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(path)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    package = directory / f"{name}-{version}.tgz"
    directory.mkdir(parents=True, exist_ok=True)
    package.write_bytes(buffer.getvalue())
    return package


def push_oci_chart(registry: str, repository: str, package: Path, tag: str) -> None:
    """Upload a packaged chart as Helm does (`helm push`): OCI manifest, Helm media types."""
    def upload(data: bytes) -> tuple[str, int]:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        start = urllib.request.Request(f"http://{registry}/v2/{repository}/blobs/uploads/",
                                       method="POST")
        with urllib.request.urlopen(start) as response:
            location = response.headers["Location"]
        if location.startswith("/"):
            location = f"http://{registry}{location}"
        separator = "&" if "?" in location else "?"
        put = urllib.request.Request(f"{location}{separator}digest={digest}", data=data,
                                     method="PUT",
                                     headers={"Content-Type": "application/octet-stream"})
        urllib.request.urlopen(put).close()
        return digest, len(data)

    config_digest, config_size = upload(b'{"name": "chart"}')
    layer_digest, layer_size = upload(package.read_bytes())
    manifest = {
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.cncf.helm.config.v1+json",
                   "digest": config_digest, "size": config_size},
        "layers": [{"mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
                    "digest": layer_digest, "size": layer_size}],
    }
    request = urllib.request.Request(
        f"http://{registry}/v2/{repository}/manifests/{tag}", data=json.dumps(manifest).encode(),
        method="PUT", headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    urllib.request.urlopen(request).close()
