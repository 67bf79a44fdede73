"""Kubernetes manifests (no secrets) an addon applies besides its Helm releases (pure).

- every namespace the addon's releases and secrets use (so Secrets can exist before the
  chart that reads them);
- monitoring: the GPU dashboard ConfigMap (``templates/addons/monitoring/dashboards/gpu.json``,
  written by this project), picked up by Grafana's dashboard sidecar through its
  ``grafana_dashboard`` label.
"""

from __future__ import annotations

from typing import Any

import yaml

from deepctl.addons.registry import Addon
from deepctl.clusterspec.models import Cluster
from deepctl.templates import templates_dir

DASHBOARD_LABEL = "grafana_dashboard"
GPU_DASHBOARD = "addons/monitoring/dashboards/gpu.json"


def _dump(doc: dict[str, Any]) -> str:
    return yaml.safe_dump(doc, sort_keys=False)


def namespace_manifest(name: str) -> str:
    return _dump({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "deepctl"}},
    })


def gpu_dashboard_json() -> str:
    return (templates_dir() / GPU_DASHBOARD).read_text(encoding="utf-8")


def dashboard_configmap(namespace: str, name: str, filename: str, dashboard: str) -> str:
    return _dump({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {DASHBOARD_LABEL: "1", "app.kubernetes.io/managed-by": "deepctl"},
        },
        "data": {filename: dashboard},
    })


def addon_manifests(cluster: Cluster, addon: Addon) -> dict[str, str]:
    """``{file name: YAML}`` to ``kubectl apply`` before the releases, in order."""
    releases = addon.active_releases(cluster)
    out: dict[str, str] = {}
    for namespace in dict.fromkeys(r.namespace for r in releases):
        out[f"namespace-{namespace}.yaml"] = namespace_manifest(namespace)
    if addon.name == "monitoring" and releases:
        out["dashboard-gpu.yaml"] = dashboard_configmap(
            releases[0].namespace, "deepctl-gpu-dashboard", "deepctl-gpu.json", gpu_dashboard_json()
        )
    return out
