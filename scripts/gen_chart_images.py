"""Regenerate the image list of every addon chart, rendered with the values deepctl renders.

Usage: python scripts/gen_chart_images.py ../shared/charts-src
       (needs `pip install helm-python-sdk`; no network, no helm binary)

For every Helm release of every addon, and every image variant of that release
(:data:`deepctl.addons.chart_images.VARIANTS`: e.g. the GPU Operator with and without the
driver), this renders deepctl's values for a spec with every addon on, renders the pinned chart
source with helm-python-sdk, and collects each image reference the manifests name (see
:func:`deepctl.addons.chart_images.images_in`). Writes
src/deepctl/data/chart-images.yml; a test renders the charts again and compares.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from typing import Any  # noqa: E402

from deepctl.addons.chart_images import CHART_IMAGES_FILE, VARIANTS, images_in  # noqa: E402
from deepctl.addons.registry import ADDONS, Release  # noqa: E402
from deepctl.addons.values import parse_values, render_values  # noqa: E402
from deepctl.clusterspec.models import Cluster  # noqa: E402

# A spec with every addon on (NFS and Ceph, three GPU hosts), the base of every variant.
EVERYTHING: dict[str, Any] = {
    "apiVersion": "deepctl/v1alpha1", "kind": "Cluster", "metadata": {"name": "lab"},
    "spec": {
        "hosts": [
            {"name": "cp1", "address": "192.0.2.11", "roles": ["control-plane", "etcd", "worker"],
             "cephDevices": ["/dev/sdb"]},
            {"name": "gpu1", "address": "192.0.2.31", "roles": ["worker"], "gpu": True,
             "cephDevices": ["/dev/sdb"]},
            {"name": "gpu2", "address": "192.0.2.32", "roles": ["worker"], "gpu": True,
             "cephDevices": ["/dev/sdb"]},
        ],
        "addons": {
            "gpu": {"enabled": True}, "monitoring": {"enabled": True},
            "logging": {"enabled": True},
            "storage": {"nfs": {"enabled": True, "server": "cp1"}, "ceph": {"enabled": True}},
            "slurm": {"enabled": True}, "jupyterhub": {"enabled": True},
        },
    },
}
# Spec changes that produce each variant of a release (releases not listed: one variant).
# Each change maps an addon name to the settings it overrides in EVERYTHING.
VARIANT_SPECS: dict[str, list[dict[str, dict[str, Any]]]] = {
    "gpu-operator": [
        {"gpu": {"driver": {"install": install}, "mig": {"strategy": strategy}}}
        for install in (False, True) for strategy in ("none", "single")
    ],
    # Grafana's volume (and its busybox init container) only with a default StorageClass.
    "kube-prometheus-stack": [
        {}, {"storage": {"nfs": {"enabled": False}, "ceph": {"enabled": False}}},
    ],
}
# Chart source folder when the pinned version has none (none today: Slinky is pinned at 1.2.1).
SOURCE_FALLBACK: dict[str, str] = {}


def cluster_with(change: dict[str, dict[str, Any]] | None = None) -> Cluster:
    data: dict[str, Any] = yaml.safe_load(yaml.safe_dump(EVERYTHING))
    for addon, settings in (change or {}).items():
        data["spec"]["addons"][addon].update(settings)
    return Cluster.model_validate(data)


def variant_clusters(release: Release) -> dict[str, Cluster]:
    """``{variant key: a spec giving it}`` for ``release``."""
    out: dict[str, Cluster] = {}
    for change in VARIANT_SPECS.get(release.name, [{}]):
        cluster = cluster_with(change)
        pick = VARIANTS.get(release.name)
        out[pick(cluster) if pick else "default"] = cluster
    return out


def chart_source_dir(charts_src: Path, release: Release, cluster: Cluster) -> Path:
    version = release.version(cluster)
    for candidate in (version, SOURCE_FALLBACK.get(version, version)):
        path = charts_src / f"{release.chart.name}-{candidate}"
        if path.is_dir():
            return path
    raise SystemExit(f"no chart source for {release.chart.name} {version} in {charts_src}")


def render_objects(source: Path, release: Release, cluster: Cluster) -> list[dict[str, Any]]:
    """The chart rendered with deepctl's values, as Kubernetes objects."""
    import helm_python as helm

    values = parse_values(render_values(cluster, release))
    with helm.Chart.load(str(source)) as chart:
        manifests = chart.render(values, name=release.name, namespace=release.namespace,
                                 is_install=True)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: the CRDs are megabytes
    return [doc for path, body in manifests.items() if not path.endswith("NOTES.txt")
            for doc in yaml.load_all(body, Loader=loader) if isinstance(doc, dict)]


# The GPU Operator's ClusterPolicy names operands it only runs for sandbox (VM) workloads,
# confidential computing or its own driver; deepctl turns none of these on.
GPU_SANDBOX_ONLY = ("/k8s-cc-manager:", "/nvidia-sandbox-device-plugin:", "/vgpu-device-manager:",
                    "/kubevirt-gpu-device-plugin:")


def render_release_images(source: Path, release: Release, cluster: Cluster) -> list[str]:
    images = images_in(render_objects(source, release, cluster))
    if release.name == "gpu-operator":
        unused = GPU_SANDBOX_ONLY
        if not cluster.spec.addons.gpu.driver.install:
            unused += ("/k8s-driver-manager:",)
        images = [i for i in images if not any(u in i for u in unused)]
    return images


def _image_nodes(node: Any, path: list[str]) -> list[dict[str, Any]]:
    """The values that name an image registry or repository, under ``path``."""
    if isinstance(node, list):
        return []
    if not isinstance(node, dict):
        return []
    out: list[dict[str, Any]] = []
    repo = node.get("repository")
    if isinstance(repo, str) and repo:
        if "registry" in node:
            out.append({"path": [*path, "registry"], "set": "registry"})
        out.append({"path": [*path, "repository"], "set": "path", "value": repo})
    elif isinstance(node.get("name"), str) and "tag" in node and "/" in node["name"]:
        out.append({"path": [*path, "name"], "set": "path", "value": node["name"]})
    for key, child in node.items():
        if key == "image" and isinstance(child, str) and "/" in child and "repository" not in node:
            out.append({"path": [*path, "image"], "set": "path", "value": child})
        else:
            out.extend(_image_nodes(child, [*path, str(key)]))
    return out


def image_values(chart_dir: Path, path: list[str] | None = None) -> list[dict[str, Any]]:
    """Image settings in a chart's default values and its subcharts' (under their key)."""
    path = path or []
    values = yaml.safe_load((chart_dir / "values.yaml").read_text()) or {}
    out = _image_nodes(values, path)
    meta = yaml.safe_load((chart_dir / "Chart.yaml").read_text())
    keys = {d["name"]: d.get("alias", d["name"]) for d in meta.get("dependencies") or []}
    for sub in sorted((chart_dir / "charts").glob("*/Chart.yaml")):
        name = yaml.safe_load(sub.read_text())["name"]
        if name in keys and not (sub.parent / "values.yaml").is_file():
            continue
        if name in keys:
            out.extend(image_values(sub.parent, [*path, keys[name]]))
    return out


def generate(charts_src: Path) -> dict[str, object]:
    releases: dict[str, object] = {}
    for addon in ADDONS:
        for release in addon.releases:
            variants: dict[str, list[str]] = {}
            for key, cluster in variant_clusters(release).items():
                source = chart_source_dir(charts_src, release, cluster)
                variants[key] = render_release_images(source, release, cluster)
            first = next(iter(variant_clusters(release).values()))
            source = chart_source_dir(charts_src, release, first)
            releases[release.name] = {
                "chart": release.chart.name,
                "version": release.version(first),
                "source": source.name,
                "variants": variants,
                "image_values": image_values(source),
            }
    return {"releases": releases}


def main(charts_src: Path) -> None:
    data = generate(charts_src)
    out = ROOT / "src" / "deepctl" / "data" / CHART_IMAGES_FILE
    header = (
        "# Generated by scripts/gen_chart_images.py from the pinned chart sources, rendered\n"
        "# with deepctl's values (helm-python-sdk). Do not edit by hand.\n"
    )
    out.write_text(header + yaml.safe_dump(data, sort_keys=False, width=10000, default_flow_style=None))
    count = sum(len(v) for r in data["releases"].values() for v in r["variants"].values())  # type: ignore[attr-defined]
    print(f"wrote {out} ({count} image references)")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
