"""Facts about the pinned Kubespray release, shipped as package data.

The data file is generated from the upstream extract by ``scripts/gen_kubespray_data.py``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources

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
