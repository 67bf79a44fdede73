"""Helm charts: find a chart's package in its repository, fetch it, index the mirror's copy.

A classic Helm repository is read through its ``index.yaml`` (the entry's URL and sha256
digest); a mirror without an index serves ``<name>-<version>.tgz`` at its root (the layout
``DIR/charts`` has). An ``oci://`` repository is read with the OCI distribution API
(anonymous bearer token, as public chart registries want). ``DIR/charts/index.yaml`` is
written the way ``helm repo index`` does, so the directory served over HTTP is a Helm repo.
"""

from __future__ import annotations

import json
import re
import tarfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from deepctl.artifacts.download import USER_AGENT, fetch_file, open_url, sha256_of
from deepctl.artifacts.layout import chart_file_name
from deepctl.artifacts.model import ChartArtifact
from deepctl.errors import ArtifactError

HELM_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
OCI_ACCEPT = ("application/vnd.oci.image.manifest.v1+json, "
              "application/vnd.docker.distribution.manifest.v2+json")
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')
Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class RepoIndexes:
    """``index.yaml`` of each Helm repository, fetched once however many threads ask."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._indexes: dict[str, dict[str, Any] | None] = {}

    def get(self, repo: str) -> dict[str, Any] | None:
        with self._lock:
            if repo not in self._indexes:
                self._indexes[repo] = _fetch_index(repo)
            return self._indexes[repo]


def _fetch_index(repo: str) -> dict[str, Any] | None:
    url = f"{repo.rstrip('/')}/index.yaml"
    try:
        with open_url(url) as response:
            document = yaml.load(response.read(), Loader=Loader)
    except ArtifactError as exc:
        if "HTTP 404" in exc.message:
            return None
        raise
    except yaml.YAMLError:
        raise ArtifactError(f"{url}: not a Helm repository index (invalid YAML)") from None
    return document if isinstance(document, dict) else None


def _same_version(a: str, b: str) -> bool:
    return a.lstrip("v") == b.lstrip("v")


def locate(chart: ChartArtifact, repo: str, indexes: RepoIndexes) -> tuple[str, str | None]:
    """(URL of the chart's package, its sha256 or None) in the classic repository ``repo``."""
    index = indexes.get(repo)
    base = f"{repo.rstrip('/')}/"
    if index is None:
        return urllib.parse.urljoin(base, chart_file_name(chart)), None
    for entry in (index.get("entries") or {}).get(chart.name, []):
        if _same_version(str(entry.get("version", "")), chart.version) and entry.get("urls"):
            return urllib.parse.urljoin(base, str(entry["urls"][0])), entry.get("digest")
    raise ArtifactError(f"chart {chart.name} {chart.version} is not in {repo}/index.yaml",
                        hint="check the chart version in the spec, or the repository URL")


def fetch_chart(
    chart: ChartArtifact, dest: Path, *, charts_from: str | None, indexes: RepoIndexes,
    plain_http: frozenset[str] = frozenset(), on_bytes: Callable[[int], None] | None = None,
) -> int:
    """Download ``chart`` to ``dest`` (verified when the repository gives a digest)."""
    label = f"chart {chart.name} {chart.version}"
    repo = charts_from or chart.repo
    if repo.startswith("oci://"):
        return _fetch_oci(chart, repo, dest, plain_http, on_bytes, label)
    url, digest = locate(chart, repo, indexes)
    return fetch_file(url, dest, digest, on_bytes, label=label)


def _fetch_oci(chart: ChartArtifact, repo: str, dest: Path, plain_http: frozenset[str],
               on_bytes: Callable[[int], None] | None, label: str) -> int:
    host, _, path = repo[len("oci://"):].strip("/").partition("/")
    name = f"{path}/{chart.name}" if path else chart.name
    scheme = "http" if host in plain_http else "https"
    base = f"{scheme}://{host}/v2/{name}"
    tag = chart.version.replace("+", "_")
    headers = _auth_headers(f"{base}/manifests/{tag}")
    with open_url(f"{base}/manifests/{tag}", {**headers, "Accept": OCI_ACCEPT}) as response:
        manifest = json.loads(response.read())
    layers = [m for m in manifest.get("layers", []) if m.get("mediaType") == HELM_LAYER]
    if not layers:
        raise ArtifactError(f"{label}: {repo}/{chart.name}:{tag} is not a Helm chart")
    digest = str(layers[0]["digest"])
    return fetch_file(f"{base}/blobs/{digest}", dest, digest.removeprefix("sha256:"), on_bytes,
                      label=label, headers=headers)


def _auth_headers(url: str) -> dict[str, str]:
    """An anonymous bearer token if the registry asks for one, else no header."""
    request = urllib.request.Request(url, method="HEAD", headers={"User-Agent": USER_AGENT,
                                                                  "Accept": OCI_ACCEPT})
    try:
        with urllib.request.urlopen(request, timeout=30):
            return {}
    except urllib.error.HTTPError as exc:
        challenge = exc.headers.get("WWW-Authenticate", "")
        if exc.code != 401 or not challenge.lower().startswith("bearer"):
            raise ArtifactError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise ArtifactError(f"{url}: {getattr(exc, 'reason', exc)}") from None
    fields = dict(_CHALLENGE.findall(challenge))
    query = urllib.parse.urlencode({k: v for k, v in fields.items() if k in ("service", "scope")})
    with open_url(f"{fields.get('realm', '')}?{query}") as response:
        token = json.loads(response.read())
    value = token.get("token") or token.get("access_token")
    if not value:
        raise ArtifactError(f"{url}: the registry gave no anonymous token")
    return {"Authorization": f"Bearer {value}"}


def chart_metadata(package: Path) -> dict[str, Any]:
    """``Chart.yaml`` of a packaged chart."""
    try:
        with tarfile.open(package, "r:gz") as tar:
            for member in tar.getmembers():
                if member.name.count("/") == 1 and member.name.endswith("/Chart.yaml"):
                    handle = tar.extractfile(member)
                    if handle is not None:
                        data = yaml.load(handle.read(), Loader=Loader)
                        return data if isinstance(data, dict) else {}
    except (OSError, tarfile.TarError, yaml.YAMLError):
        pass
    return {}


def write_repo_index(charts_root: Path) -> Path:
    """``index.yaml`` for every package in ``charts_root``, as ``helm repo index`` writes."""
    entries: dict[str, list[dict[str, Any]]] = {}
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    for package in sorted(charts_root.glob("*.tgz")):
        meta = chart_metadata(package)
        if not meta.get("name") or not meta.get("version"):
            continue
        entry = {**meta, "urls": [package.name], "digest": sha256_of(package), "created": now}
        entries.setdefault(str(meta["name"]), []).append(entry)
    document = {"apiVersion": "v1", "entries": entries, "generated": now}
    path = charts_root / "index.yaml"
    temp = path.with_name(".index.yaml.tmp")
    try:
        temp.write_text(yaml.safe_dump(document, sort_keys=True), encoding="utf-8")
        temp.replace(path)
    finally:
        temp.unlink(missing_ok=True)
    return path

