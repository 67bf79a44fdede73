"""Sources and targets checked once, before any item: reachable, and trusted over TLS.

A source that refuses connections would otherwise fail every item of its kind, one skopeo or
HTTP error each, after retries; one probe says it once and stops the command. A registry whose
certificate is not trusted is said once, with the fix (``--ca-file``). skopeo is given a
private CA the only way it takes one: a directory holding it as ``ca.crt`` (``--*-cert-dir``).
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import ssl
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from deepctl.errors import ArtifactError

TIMEOUT_S = 10.0


@contextlib.contextmanager
def trusted_ca_dir(ca_file: Path | None) -> Iterator[Path | None]:
    """A private directory holding ``ca_file`` as ``ca.crt`` (for skopeo), or None."""
    if ca_file is None:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="deepctl-ca-") as directory:
        try:
            shutil.copyfile(ca_file, Path(directory) / "ca.crt")
        except OSError as exc:
            raise ArtifactError(f"--ca-file {ca_file}: cannot read it ({exc.strerror or exc})",
                                hint="give the PEM file of the CA that signed the registry's "
                                "certificate") from None
        yield Path(directory)


def _connect(host: str, port: int, what: str) -> None:
    try:
        with socket.create_connection((host, port), timeout=TIMEOUT_S):
            return
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise ArtifactError(
            f"the {what} at {host}:{port} is unreachable ({reason}); nothing was tried from it",
            hint=f"start the {what} or correct its address, then run the command again") from None


def probe_url(url: str, what: str) -> None:
    """``url``'s host accepts connections."""
    parts = urlsplit(url)
    default = 443 if parts.scheme in ("https", "oci") else 80
    _connect(parts.hostname or "", parts.port or default, what)


def _ca_hint(flag: str, registry: str, ca_file: Path | None) -> str:
    if ca_file is not None:
        return (f"{ca_file} did not verify {registry}'s certificate: give {flag} the CA (PEM) "
                "that signed it, with any intermediate CAs")
    return (f"give the CA (PEM) that signed {registry}'s certificate with {flag} CA.pem "
            "(or, for push, spec.offline.caFile with --spec); --insecure-registry turns "
            "verification off, which a site should not need")


def probe_registry(registry: str, *, insecure: bool, ca_file: Path | None, what: str,
                   flag: str = "--ca-file") -> None:
    """``registry`` (HOST[:PORT][/PATH]) answers, and over TLS with a certificate we trust."""
    host = registry.split("/", 1)[0]
    parts = urlsplit(f"//{host}")
    if insecure:  # plain HTTP, or TLS not verified: the port only
        _connect(parts.hostname or "", parts.port or 443, what)
        return
    context = ssl.create_default_context()
    if ca_file is not None:
        context.load_verify_locations(cafile=str(ca_file))
    try:
        with urllib.request.urlopen(f"https://{host}/v2/", timeout=TIMEOUT_S, context=context):
            return
    except urllib.error.HTTPError:
        return  # it answers (401: it wants a login, which skopeo brings)
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, ssl.SSLCertVerificationError):
            raise ArtifactError(
                f"the {what} {registry} has a certificate this machine does not trust "
                f"({reason.verify_message or reason}); no image was tried",
                hint=_ca_hint(flag, registry, ca_file)) from None
        if isinstance(reason, ssl.SSLError):
            raise ArtifactError(
                f"the {what} {registry} does not speak TLS ({reason.reason or reason})",
                hint="if it serves plain HTTP, add --insecure-registry") from None
        text = getattr(reason, "strerror", None) or str(reason)
        raise ArtifactError(f"the {what} {registry} is unreachable ({text}); no image was tried",
                            hint=f"start the {what} or correct its address, then run the "
                            "command again") from None
    except OSError as exc:
        raise ArtifactError(f"the {what} {registry} is unreachable ({exc}); no image was tried",
                            hint=f"start the {what} or correct its address") from None
