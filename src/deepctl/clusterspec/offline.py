"""``spec.offline``: where an air-gapped install takes its files, images and charts from.

The model only checks shapes: ``files`` an http(s) URL, ``registry`` a ``host[:port][/path]``
without a scheme, ``charts`` an http(s) URL or an existing local directory (relative paths are
relative to the spec file; the validated value is the absolute directory). What these values
turn into is decided elsewhere: Kubespray's offline variables (:mod:`deepctl.kubevars.offline`)
and the addons' image and chart settings (:mod:`deepctl.addons.offline`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic.alias_generators import to_camel

from deepctl.clusterspec.syntax import capped, shown
from deepctl.user_input import InputError, read_input

if TYPE_CHECKING:
    pass

# host (DNS name, IPv4 or [IPv6]) with an optional port, then optional path segments.
_LABEL = r"[A-Za-z0-9](?:[-A-Za-z0-9]{0,61}[A-Za-z0-9])?"
_HOST = rf"(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9A-Fa-f:.]+\])"
REGISTRY = re.compile(rf"^{_HOST}(?::[0-9]{{1,5}})?(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*\Z")
_URL_FORBIDDEN = re.compile(r"[\s{}%'\"<>\\]")
MAX_CA_BYTES = 256 * 1024  # a CA bundle of a few certificates; more is not one


def check_http_url(value: str, what: str) -> str:
    """``value`` without a trailing slash, if it is a well-formed http(s) URL; else ValueError."""
    if _URL_FORBIDDEN.search(value):
        raise ValueError(f"{what} {shown(value)} has spaces, quotes, braces or '%' (not a plain URL)")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{what} {shown(value)} is not an http:// or https:// URL with a host")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"{what} {value!r} has a query, fragment or credentials; give a plain URL")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise ValueError(f"{what} {value!r} has an invalid port") from None
    return value.rstrip("/")


class Offline(BaseModel):
    """An air-gapped install: every file, image and chart comes from these mirrors."""

    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True, validate_default=True
    )

    files: str = Field(
        description="Files mirror in Kubespray's files_repo layout (URL/HOST/PATH serves https://HOST/PATH), "
        "e.g. http://mirror.lab:8080/files."
    )
    registry: str = Field(
        description="Image registry holding every image under its upstream path "
        "(Kubespray's registry_host layout), host[:port] without a scheme, e.g. mirror.lab:5000."
    )
    charts: str | None = Field(
        None,
        description="Helm charts: a Helm repository URL, or a local directory of "
        "CHART-VERSION.tgz files (relative to the spec file). Required when an addon is on.",
    )
    insecure_registry: bool = Field(False, description="The registry speaks plain HTTP.")
    ca_file: Path | None = Field(
        None,
        description="CA bundle (PEM) that signed the mirrors' certificates; relative to the "
        "spec file. Used to check the mirrors and trusted by the container runtime.",
    )

    @field_validator("files")
    @classmethod
    def _files_url(cls, value: str) -> str:
        return check_http_url(value, "files URL")

    @field_validator("registry")
    @classmethod
    def _registry(cls, value: str) -> str:
        if "://" in value:
            raise ValueError(
                f"registry {value!r} has a scheme; write host[:port] only (e.g. mirror.lab:5000)"
                " and set insecureRegistry: true for plain HTTP"
            )
        value = value.rstrip("/")
        if not REGISTRY.match(value):
            raise ValueError(f"registry {value!r} is not host[:port][/path] (e.g. mirror.lab:5000)")
        return value

    @field_validator("charts")
    @classmethod
    def _charts(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if "://" in value:
            return check_http_url(value, "charts URL")
        directory = resolve_path(Path(value), info)
        if not directory.is_dir():
            raise ValueError(
                f"charts {value!r} is neither an http(s) URL nor an existing directory "
                f"({directory} does not exist)"
            )
        return str(directory)

    @field_validator("ca_file")
    @classmethod
    def _ca_file(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is None:
            return None
        path = resolve_path(value, info)
        if not path.is_file():
            raise ValueError(f"caFile {shown(str(value))}: no such file ({capped(str(path))})")
        check_ca_bundle(path, str(value))
        return path


def check_ca_bundle(path: Path, value: str) -> int:
    """Read the CA bundle at ``path`` (within the one read limit) and count its certificates;
    ValueError when it cannot be read, is too large or holds no PEM certificate."""
    try:
        data = read_input(path, MAX_CA_BYTES, "CA bundle")
    except InputError as exc:
        raise ValueError(f"caFile: {exc.message}") from None
    return check_pem_certificates(data, path, value)


def check_pem_certificates(data: bytes, path: Path, value: str) -> int:
    """How many PEM certificates ``data`` (read from ``path``) holds; ValueError unless one or more."""
    from cryptography import x509

    try:
        return len(x509.load_pem_x509_certificates(data))
    except ValueError:
        raise ValueError(
            f"caFile {shown(value)} holds no PEM certificate ({capped(str(path))}); give the CA "
            "bundle (-----BEGIN CERTIFICATE----- ...) that signed the mirrors' certificates"
        ) from None


def resolve_path(path: Path, info: ValidationInfo) -> Path:
    """``path`` made absolute: relative to the spec file's directory when the loader says it."""
    path = path.expanduser()
    if path.is_absolute():
        return path
    context = info.context if isinstance(info.context, dict) else {}
    spec_file = context.get("spec_file")
    base = Path(str(spec_file)).parent if spec_file else Path.cwd()
    return (base / path).resolve()


OFFLINE_KUBESPRAY_VARS = ("files_repo", "registry_host")
