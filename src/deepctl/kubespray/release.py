"""Facts about the pinned Kubespray release, shipped as package data.

The data file is generated from the upstream extract by ``scripts/gen_kubespray_data.py``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from deepctl import KUBESPRAY_TAG


@dataclass(frozen=True)
class KubesprayRelease:
    tag: str
    commit: str
    default_kube_version: str
    min_kube_version: str
    supported_versions: dict[str, tuple[str, ...]]  # architecture -> versions, newest first
    variables: frozenset[str]  # every variable name Kubespray defines or reads
    retired: dict[str, str]  # names its CI still sets that it no longer reads -> why

    def supports(self, kube_version: str, arch: str = "amd64") -> bool:
        return kube_version in self.supported_versions.get(arch, ())

    def minors(self) -> list[str]:
        """Supported minor versions, newest first (e.g. ["1.35", "1.34", "1.33"])."""
        seen: list[str] = []
        for version in self.supported_versions["amd64"]:
            minor = ".".join(version.split(".")[:2])
            if minor not in seen:
                seen.append(minor)
        return seen


@functools.cache
def load_release(tag: str = KUBESPRAY_TAG) -> KubesprayRelease:
    """Load the package data of a Kubespray release deepctl knows."""
    resource = resources.files("deepctl.data").joinpath(f"kubespray-{tag}.yml")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data = yaml.load(resource.read_text(encoding="utf-8"), Loader=loader)
    return KubesprayRelease(
        tag=data["kubespray_tag"],
        commit=data["kubespray_commit"],
        default_kube_version=data["default_kube_version"],
        min_kube_version=data["kube_version_min_required"],
        supported_versions={a: tuple(v) for a, v in data["supported_versions"].items()},
        variables=frozenset(data["variables"]),
        retired=dict(data.get("retired_variables", {})),
    )


@functools.cache
def load_defaults(tag: str = KUBESPRAY_TAG) -> dict[str, str]:
    """Kubespray's default of each variable, as its YAML source text (Jinja unrendered)."""
    resource = resources.files("deepctl.data").joinpath(f"defaults-kubespray-{tag}.yml")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data: dict[str, str] = yaml.load(resource.read_text(encoding="utf-8"), Loader=loader)
    return data


def known_tags() -> list[str]:
    names = [p.name for p in resources.files("deepctl.data").iterdir()]
    return sorted(n[len("kubespray-") : -len(".yml")] for n in names if n.startswith("kubespray-"))


SIMPLE_REFERENCE = re.compile(r"^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$")


def resolved_default(name: str, tag: str = KUBESPRAY_TAG) -> tuple[str | None, Any, bool]:
    """(source text, value, known) of Kubespray's default of ``name``; ``"{{ other }}"``
    references are followed, and known is False when the value is computed at run time."""
    defaults = load_defaults(tag)
    text = defaults.get(name)
    if text is None:
        return None, None, False
    if name == "kube_version":  # computed from its checksums: the newest supported version
        return text, load_release(tag).default_kube_version, True
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    value: Any = yaml.load(text, Loader=loader)
    for _ in range(3):  # dns_domain: "{{ cluster_name }}" -> cluster_name: cluster.local
        match = SIMPLE_REFERENCE.match(value) if isinstance(value, str) else None
        if match is None or match.group(1) not in defaults:
            break
        value = yaml.load(defaults[match.group(1)], Loader=loader)
    return text, value, not _templated(value)


def _templated(value: Any) -> bool:
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, dict):
        return any(_templated(v) for v in value.values())
    if isinstance(value, list):
        return any(_templated(v) for v in value)
    return False


def is_kubespray_default(name: str, value: Any) -> bool:
    """True when ``value`` is what Kubespray would use anyway for ``name``."""
    text, default, known = resolved_default(name)
    return text is not None and known and same_value(value, default)


def same_value(a: Any, b: Any) -> bool:
    """Equal once templated by Ansible (1.35 and "1.35" alike)."""
    return bool(_normal(a) == _normal(b))


def _normal(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _normal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    return str(value)
