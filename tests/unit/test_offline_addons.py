"""With spec.offline and every addon on, nothing deepctl installs reaches for the internet.

The real charts (../shared/charts-src, rendered in-process by helm-python-sdk with the values
deepctl renders) must name only images in the mirror registry, each at the upstream path
``artifacts push`` gives it; every chart comes from the mirror; every URL in the inventory
and the values is the mirror's or the cluster's own. The image data generated from the charts
(src/deepctl/data/chart-images.yml) must match a fresh render.
"""

from __future__ import annotations

import importlib.util
import re
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from deepctl.addons.chart_images import chart_images_data, images_in, variant_key
from deepctl.addons.offline import MIRROR_REPO_NAME, chart_source, image_overrides, merge
from deepctl.addons.playbook import plan_addon, write_plan
from deepctl.addons.registry import ADDONS, Release
from deepctl.addons.values import render_values
from deepctl.clusterspec.models import Cluster
from deepctl.kubevars.offline import mirror_image
from deepctl.kubevars.render import render_inventory

ROOT = Path(__file__).resolve().parents[2]
CHARTS_SRC = ROOT.parent / "shared" / "charts-src"
REGISTRY = "127.0.0.1:5000"
FILES = "http://127.0.0.1:8080/files"
CHARTS = "http://127.0.0.1:8080/charts"
URL = re.compile(r"[a-z][a-z0-9+.-]*://[^\s\"'}]+")
# URLs that stay inside the cluster (Loki's service), not the internet.
IN_CLUSTER = re.compile(r"^https?://[a-z0-9-]+\.[a-z0-9-]+\.svc(:\d+)?(/|$)")

needs_charts = pytest.mark.skipif(
    not CHARTS_SRC.is_dir(),
    reason=f"the pinned chart sources are not at {CHARTS_SRC} (present in CI)",
)


@cache
def generator() -> ModuleType:
    path = ROOT / "scripts" / "gen_chart_images.py"
    spec = importlib.util.spec_from_file_location("gen_chart_images", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def everything(offline: dict[str, Any] | None = None, driver: bool = True) -> Cluster:
    data: dict[str, Any] = yaml.safe_load(yaml.safe_dump(generator().EVERYTHING))
    data["spec"]["addons"]["gpu"]["driver"] = {"install": driver}
    if offline is not None:
        data["spec"]["offline"] = offline
    return Cluster.model_validate(data)


def offline_cluster(**extra: Any) -> Cluster:
    return everything({"files": FILES, "registry": REGISTRY, "charts": CHARTS, **extra})


RELEASES = [r for addon in ADDONS for r in addon.releases]


def objects(release: Release, cluster: Cluster) -> list[dict[str, Any]]:
    gen = generator()
    pytest.importorskip("helm_python", reason="helm-python-sdk renders the charts (test extra)")
    return list(gen.render_objects(gen.chart_source_dir(CHARTS_SRC, release, cluster), release, cluster))


@needs_charts
@pytest.mark.parametrize("release", RELEASES, ids=lambda r: r.name)
def test_every_image_of_every_chart_comes_from_the_mirror(release: Release) -> None:
    upstream = images_in(objects(release, everything()))
    mirrored = images_in(objects(release, offline_cluster()))
    outside = [ref for ref in mirrored if not ref.startswith(REGISTRY + "/")]
    assert outside == [], f"{release.name} names images outside the mirror: {outside}"
    # Each at its upstream path: what `artifacts push` puts there.
    assert sorted(mirrored) == sorted({mirror_image(ref, REGISTRY) for ref in upstream})


@needs_charts
def test_the_image_data_matches_a_fresh_render() -> None:
    pytest.importorskip("helm_python", reason="helm-python-sdk renders the charts (test extra)")
    fresh = generator().generate(CHARTS_SRC)
    assert fresh == chart_images_data()


def test_chart_images_follow_the_spec_variant() -> None:
    data = chart_images_data()["releases"]["gpu-operator"]["variants"]
    gpu = next(r for r in RELEASES if r.name == "gpu-operator")
    without = everything(driver=False)
    with_driver = everything(driver=True)
    assert variant_key(without, gpu) == "driver=off,migManager=off"
    assert not any("/driver:" in ref for ref in data[variant_key(without, gpu)])
    assert any(ref.startswith("nvcr.io/nvidia/driver:") for ref in data[variant_key(with_driver, gpu)])


def test_charts_come_from_the_mirror_repository() -> None:
    cluster = offline_cluster()
    for release in RELEASES:
        source = chart_source(cluster, release)
        assert (source.repo_name, source.repo_url, source.oci, source.file) == (
            MIRROR_REPO_NAME, CHARTS, False, None)
        assert source.ref == f"{MIRROR_REPO_NAME}/{release.chart.name}"


def test_charts_from_a_local_directory_are_archives(tmp_path: Path) -> None:
    cluster = everything({"files": FILES, "registry": REGISTRY, "charts": str(tmp_path)})
    slurm = next(r for r in RELEASES if r.name == "slurm")
    source = chart_source(cluster, slurm)
    assert source.file == str(tmp_path / "slurm-1.2.1.tgz")
    plan = plan_addon(cluster, next(a for a in ADDONS if a.name == "slurm"))
    extravars = write_plan(plan, tmp_path / "work")
    rel = next(r for r in extravars["deepctl_releases"] if r["name"] == "slurm")
    assert (rel["chart_file"], rel["oci"]) == (str(tmp_path / "slurm-1.2.1.tgz"), False)


def test_online_specs_keep_upstream_charts_and_values() -> None:
    cluster = everything()
    for release in RELEASES:
        source = chart_source(cluster, release)
        assert (source.repo_url, source.ref, source.file) == (release.chart.repo_url, release.chart.ref, None)
        assert image_overrides(cluster, release) == {}


def test_no_url_outside_the_mirror_in_what_deepctl_renders() -> None:
    cluster = offline_cluster()
    texts = {f"inventory/{path}": text for path, text in render_inventory(cluster, "spec").items()}
    for release in RELEASES:
        texts[f"values/{release.name}"] = render_values(cluster, release)
        texts[f"chart/{release.name}"] = chart_source(cluster, release).repo_url
    outside = [
        (where, url) for where, text in texts.items() for url in URL.findall(text)
        if not url.startswith((FILES, CHARTS, f"http://{REGISTRY}", f"https://{REGISTRY}"))
        and not IN_CLUSTER.match(url)
    ]
    assert outside == []


def test_the_gpu_smoke_job_runs_the_mirrored_image() -> None:
    from deepctl.addons.decisions import SMOKE_IMAGE
    from deepctl.stages.verify_gpu import smoke_jobs

    nodes = {"gpu1": {"status": {"allocatable": {"nvidia.com/gpu": "8"}}}}
    for cluster, image in ((everything(), SMOKE_IMAGE),
                           (offline_cluster(), mirror_image(SMOKE_IMAGE, REGISTRY))):
        jobs = smoke_jobs(cluster, nodes)
        assert [j["spec"]["template"]["spec"]["containers"][0]["image"] for j in jobs] == [image]
    assert mirror_image(SMOKE_IMAGE, REGISTRY) == f"{REGISTRY}/nvidia/cuda:12.8.1-base-ubuntu24.04"


def test_merge_keeps_both_sides() -> None:
    base = {"image": {"tag": "1"}, "other": 1}
    assert merge(base, {"image": {"repository": "m/x"}}) == {
        "image": {"tag": "1", "repository": "m/x"}, "other": 1}
    assert base == {"image": {"tag": "1"}, "other": 1}


def test_images_in_reads_every_place_charts_put_images() -> None:
    digest = "sha256:" + "a" * 64
    objs: list[dict[str, Any]] = [
        {"kind": "Deployment", "spec": {"template": {"spec": {"containers": [
            {"name": "a", "image": "busybox:1.36",
             "args": ["--prometheus-config-reloader=quay.io/p/reloader:v1",
                      "--thanos-default-base-image=quay.io/thanos/thanos:v1"],
             "env": [{"name": "SIDECAR_IMAGE", "value": "ghcr.io/x/side:2"}]}]}}}},
        {"kind": "ClusterPolicy", "spec": {
            "driver": {"enabled": False, "repository": "nvcr.io/nvidia", "image": "driver", "version": "1"},
            "toolkit": {"enabled": True, "repository": "nvcr.io/nvidia/k8s", "image": "tk", "version": "v1"},
            "dcgm": {"repository": "nvcr.io/nvidia", "image": "dcgm", "version": digest}}},
        {"kind": "ConfigMap", "data": {"plugin": "quay.io/cephcsi/cephcsi:v3", "note": "hello"}},
    ]
    assert images_in(objs) == sorted([
        "docker.io/library/busybox:1.36", "quay.io/p/reloader:v1", "ghcr.io/x/side:2",
        "nvcr.io/nvidia/k8s/tk:v1", f"nvcr.io/nvidia/dcgm@{digest}", "quay.io/cephcsi/cephcsi:v3",
    ])


def test_the_dry_run_plan_of_an_offline_spec_names_the_mirrors_not_the_internet() -> None:
    """Issue 27 §9: a site reads the plan to check that nothing will reach the internet."""
    from deepctl.stages.sequences import deploy_stages

    def described(cluster: Cluster) -> str:  # what the plan prints for each stage
        return "\n".join(stage.describe(cluster) for stage in deploy_stages())

    online = described(everything())
    assert "nvidia/gpu-operator" in online and "nvcr.io/nvidia/cuda" in online
    text = described(offline_cluster())
    for upstream in ("prometheus-community/kube-prometheus-stack", "nvidia/gpu-operator",
                     "nvcr.io/nvidia/cuda", "https://helm.ngc.nvidia.com"):
        assert upstream not in text, upstream
    assert f"{MIRROR_REPO_NAME}/gpu-operator from {CHARTS}" in text
    assert f"{REGISTRY}/nvidia/cuda:" in text
    assert f"files from {FILES}, images from {REGISTRY}" in text
