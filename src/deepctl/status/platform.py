"""Where each enabled addon lives in the cluster, and how its web endpoints are found.

The namespaces come from the addon registry (:data:`deepctl.addons.registry.ADDONS`, the Helm
releases the deploy installs), so ``deepctl status`` reads exactly where ``deepctl deploy``
installs. Per addon and namespace, status reads the Deployments, DaemonSets and StatefulSets;
for Grafana and JupyterHub it reads the Services of their release's namespace.
"""

from __future__ import annotations

from dataclasses import dataclass

from deepctl.addons.registry import ADDONS
from deepctl.clusterspec.models import Cluster


@dataclass(frozen=True)
class AddonPlace:
    name: str  # the addon (deploy stage) name: gpu, monitoring, storage ...
    namespace: str


@dataclass(frozen=True)
class ServiceLookup:
    """How to find the Service of a web endpoint: its release, and a name or label to match."""

    title: str
    release: str  # the Helm release (from the registry) whose namespace holds the Service
    name: str | None = None  # match metadata.name exactly
    label: tuple[str, str] | None = None  # or match this label
    port_forward: str = ""  # what to suggest for a cluster-internal Service: "LOCAL:PORT"


ENDPOINTS: tuple[ServiceLookup, ...] = (
    # kube-prometheus-stack names it <release>-grafana; the grafana subchart labels it.
    ServiceLookup("Grafana", "kube-prometheus-stack", label=("app.kubernetes.io/name", "grafana"),
                  port_forward="3000:80"),
    # zero-to-jupyterhub's proxy-public Service is the hub's front door.
    ServiceLookup("JupyterHub", "jupyterhub", name="proxy-public", port_forward="8000:80"),
)


def enabled_addons(cluster: Cluster) -> list[AddonPlace]:
    """One place per enabled addon and namespace of its active releases, in registry order."""
    places: list[AddonPlace] = []
    for addon in ADDONS:
        for release in addon.active_releases(cluster):
            place = AddonPlace(addon.name, release.namespace)
            if place not in places:
                places.append(place)
    return places


def release_namespaces(cluster: Cluster) -> dict[str, str]:
    """``{release name: namespace}`` for the releases this spec turns on."""
    return {r.name: r.namespace for a in ADDONS for r in a.active_releases(cluster)}


def enabled_endpoints(cluster: Cluster) -> list[tuple[ServiceLookup, str]]:
    """The endpoint lookups of enabled addons, each with the namespace to look in."""
    namespaces = release_namespaces(cluster)
    return [(e, namespaces[e.release]) for e in ENDPOINTS if e.release in namespaces]


def namespaces_to_read(cluster: Cluster) -> tuple[list[str], list[str]]:
    """(namespaces whose workloads to read, namespaces whose Services to read)."""
    workloads = list(dict.fromkeys(p.namespace for p in enabled_addons(cluster)))
    services = list(dict.fromkeys(ns for _, ns in enabled_endpoints(cluster)))
    return workloads, services
