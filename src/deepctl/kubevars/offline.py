"""``spec.offline`` -> Kubespray's own offline variables (pure).

Kubespray documents its air-gap settings in ``inventory/sample/group_vars/all/offline.yml``:
``files_repo``, ``registry_host``, the ``*_image_repo`` variables pointed at the registry, the
base URLs (``github_url`` ...) and every ``*_download_url`` pointed at ``files_repo`` in the
files_repo layout (``<files_repo>/<upstream host>/<upstream path>``). The names and URL
templates come from package data that ``scripts/gen_offline_data.py`` extracts from the
Kubespray tree, so nothing here is a hand-kept list of Kubespray's downloads.

Images keep their upstream path under the registry (``quay.io/calico/node:v3`` is
``<registry>/calico/node:v3``): :func:`mirror_image` is that mapping, shared with the addons
and ``artifacts push``.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml

from deepctl import KUBESPRAY_TAG
from deepctl.clusterspec.models import Cluster
from deepctl.clusterspec.offline import Offline

OFFLINE_VARS_FILE = "group_vars/all/deepctl-offline.yml"
DOCKER_HUB = "docker.io"
CA_PATH = "/etc/deepctl/mirror-ca.pem"  # where a stage installs spec.offline.caFile on hosts


@cache
def offline_data(tag: str = KUBESPRAY_TAG) -> dict[str, Any]:
    """The generated data (``image_repos``, ``base_urls``, ``download_urls``) of Kubespray ``tag``."""
    text = resources.files("deepctl.data").joinpath(f"kubespray-offline-{tag}.yml").read_text()
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def split_image(ref: str) -> tuple[str, str]:
    """``(registry, path:tag)`` of an image reference, Docker style (``nginx`` is Docker Hub's
    ``library/nginx``)."""
    first, _, rest = ref.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first, rest
    if not rest:
        return DOCKER_HUB, f"library/{ref}"
    return DOCKER_HUB, ref


def qualify_image(ref: str) -> str:
    """The fully qualified reference (``nginx:1`` -> ``docker.io/library/nginx:1``)."""
    registry, path = split_image(ref)
    return f"{registry}/{path}"


def mirror_image(ref: str, registry: str) -> str:
    """Where ``ref`` lives in the mirror: its upstream path under ``registry``."""
    return f"{registry}/{split_image(ref)[1]}"


def mirror_path(url: str) -> str:
    """A file's place in the files_repo layout: ``https://host/path`` -> ``host/path``."""
    return url.split("://", 1)[-1]


def _registry_vars(offline: Offline, container_runtime: str, unsafe: type[str]) -> dict[str, Any]:
    scheme = "http" if offline.insecure_registry else "https"
    host = offline.registry.split("/", 1)[0]
    if container_runtime == "crio":
        return {"crio_registries": [{"prefix": unsafe(host), "location": unsafe(host),
                                     "insecure": offline.insecure_registry, "unqualified": False}]}
    mirror: dict[str, Any] = {
        "host": unsafe(f"{scheme}://{host}"),
        "capabilities": ["pull", "resolve"],
        "skip_verify": offline.insecure_registry,
    }
    if offline.ca_file is not None and not offline.insecure_registry:
        mirror["ca"] = [CA_PATH]
    return {"containerd_registries_mirrors": [
        {"prefix": unsafe(host), "server": unsafe(f"{scheme}://{host}"), "mirrors": [mirror]}
    ]}


def render_offline_vars(cluster: Cluster, unsafe: type[str] = str) -> dict[str, Any]:
    """group_vars/all for ``spec.offline`` (``{}`` without it). ``unsafe`` marks user strings."""
    offline = cluster.spec.offline
    if offline is None:
        return {}
    data = offline_data()
    out: dict[str, Any] = {
        "files_repo": unsafe(offline.files),
        "registry_host": unsafe(offline.registry),
    }
    out.update({name: "{{ registry_host }}" for name in data["image_repos"]})
    out.update({name: "{{ files_repo }}/" + host for name, host in data["base_urls"].items()})
    out.update(data["download_urls"])
    out.update(_registry_vars(offline, cluster.spec.kubernetes.container_runtime, unsafe))
    return out
