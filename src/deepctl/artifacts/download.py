"""Download one file over HTTP(S), verified against its sha256, written as temp + rename.

A file whose checksum does not match is never kept: it is downloaded under a temporary
name beside its destination and removed on any failure. Only this module opens URLs for
the files of a mirror.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from deepctl.errors import ArtifactError

CHUNK = 256 * 1024
TIMEOUT_S = 60.0
USER_AGENT = "deepctl-artifacts"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def open_url(
    url: str, headers: dict[str, str] | None = None, timeout: float = TIMEOUT_S,
) -> http.client.HTTPResponse:
    """GET ``url``; an HTTP error or an unreachable host becomes a :class:`ArtifactError`.

    ``headers`` are sent to ``url`` only, never to where it redirects (a registry's bearer
    token must not reach the storage its blobs redirect to).
    """
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    for key, value in (headers or {}).items():
        request.add_unredirected_header(key, value)
    try:
        response: http.client.HTTPResponse = urllib.request.urlopen(request, timeout=timeout)
        return response
    except urllib.error.HTTPError as exc:
        raise ArtifactError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ArtifactError(f"{url}: {reason}") from None


def fetch_file(
    url: str, dest: Path, sha256: str | None, on_bytes: Callable[[int], None] | None = None,
    *, label: str | None = None, headers: dict[str, str] | None = None,
) -> int:
    """Download ``url`` to ``dest`` and return its size; verify ``sha256`` when known.

    ``label`` names the file in errors (default: ``dest``). On a mismatch the download is
    deleted and :class:`ArtifactError` names the file, both checksums and the URL.
    """
    name = label or str(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    temp = dest.with_name(f".{dest.name}.part-{os.getpid()}-{threading.get_ident():x}")
    digest = hashlib.sha256()
    size = 0
    try:
        with open_url(url, headers) as response, temp.open("wb") as out:
            while chunk := response.read(CHUNK):
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
                if on_bytes is not None:
                    on_bytes(len(chunk))
        got = digest.hexdigest()
        if sha256 is not None and got != sha256.lower():
            raise ArtifactError(
                f"{name}: checksum mismatch, expected sha256 {sha256}, got {got} "
                f"(from {url}); the file was not kept",
                hint="the source serves a different file than the one Kubespray pins: fix "
                "the mirror (or --files-from), then pull again",
            )
        os.replace(temp, dest)
    except (OSError, http.client.HTTPException) as exc:
        raise ArtifactError(f"{name}: {url}: {exc}") from None
    finally:
        temp.unlink(missing_ok=True)
    return size
