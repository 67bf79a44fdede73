"""Rendered addon values against the pinned charts' own default values and schemas.

Every key path deepctl sets must exist in that chart version's ``values.yaml`` (from
``../shared/reference/charts/``), except under the maps in ALLOWED_USER_MAPS, which are meant
to take user keys. loki's and jupyterhub's schemas must accept the rendered values.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from deepctl.addons import ADDONS, Release, addon_context, render_values
from deepctl.addons.manifests import addon_manifests, gpu_dashboard_json
from deepctl.addons.registry import get_addon
from deepctl.addons.secrets import grafana_admin_secret
from deepctl.clusterspec.models import Cluster
from deepctl.preflight.gpu import GpuInventory
from deepctl.state import StateDir

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "charts"

# Maps whose keys are the user's by design (the chart's default is {} or absent).
ALLOWED_USER_MAPS = {
    "gpu-operator": {
        "devicePlugin.config.data",  # time-slicing configs, keyed by config name
        "dcgmExporter.serviceMonitor.additionalLabels",  # labels of the ServiceMonitor
    },
    "kube-prometheus-stack": {
        "additionalPrometheusRulesMap",  # PrometheusRule objects, keyed by name
        "prometheus.prometheusSpec.storageSpec",  # a Prometheus Operator StorageSpec
    },
    "loki": {"loki.schemaConfig"},  # Loki's schema_config, passed through
    "jupyterhub": {"hub.config"},  # traitlets config: Class.trait
    "rook-ceph-cluster": {"cephClusterSpec.storage.nodes"},  # documented, commented out upstream
}
# Subcharts whose values live under a key of the parent chart (reference version nearest to
# the dependency: kube-prometheus-stack 87.5.1 requires grafana 12.7.2; 12.11.1 is stored).
SUBCHARTS = {"kube-prometheus-stack": {"grafana": ("grafana", "12.11.1")}}
# Reference folders named otherwise than the chart.
REFERENCE_NAMES = {"slurm": "slinky-slurm", "slurm-operator": "slinky-slurm-operator",
                   "slurm-operator-crds": "slinky-slurm-operator-crds"}
# Maps keyed by the user's names whose entries take the keys of a defaults entry
# (the slurm chart merges each NodeSet/LoginSet over nodesetDefaults/loginsetDefaults).
ENTRY_DEFAULTS = {"slurm": {"nodesets": "nodesetDefaults", "loginsets": "loginsetDefaults",
                            "partitions": "partitions.all"}}
ALLOWED_USER_MAPS["slurm"] = {
    "configFiles",  # Slurm config files by file name (gres.conf)
    "controller.extraConfMap",  # slurm.conf options (GresTypes)
    "nodesets.*.extraConfMap",  # the node's slurmd --conf options (Gres)
    "nodesets.*.slurmd.resources",  # a container's resources
    "nodesets.*.podSpec",  # a PodSpec (runtimeClassName, affinity, tolerations)
    "partitions.*.configMap",  # partition options (Default, MaxTime, State)
}
GPU_FACTS = {"gpu1": GpuInventory(8, "NVIDIA H100 80GB HBM3"),
             "gpu2": GpuInventory(4, "NVIDIA A100-SXM4-40GB")}


def cluster(**addons: Any) -> Cluster:
    return Cluster.model_validate({
        "metadata": {"name": "lab"},
        "spec": {
            "hosts": [
                {"name": "cp1", "address": "10.0.0.1", "roles": ["control-plane", "etcd", "worker"],
                 "cephDevices": ["/dev/sdb"]},
                {"name": "gpu1", "address": "10.0.0.2", "roles": ["worker"], "gpu": True,
                 "cephDevices": ["/dev/nvme1n1", "/dev/nvme2n1"]},
                {"name": "gpu2", "address": "10.0.0.3", "roles": ["worker"], "gpu": True,
                 "cephDevices": ["sdc"]},
            ],
            "addons": addons,
        },
    })


EVERYTHING = cluster(
    gpu={"driver": {"install": True, "version": "580.126.20"}, "mig": {"strategy": "mixed"},
         "timeSlicingReplicas": 4},
    logging={"enabled": True},
    storage={"nfs": {"enabled": True, "server": "cp1"}, "ceph": {"enabled": True}},
    slurm={"enabled": True},
    jupyterhub={"enabled": True, "gpuProfiles": [0, 1, 8]},
)
NFS_ONLY = cluster(
    monitoring={"enabled": True}, logging={"enabled": True},
    storage={"nfs": {"enabled": True, "externalServer": "nfs.example.org"}},
    jupyterhub={"enabled": True},
)
BARE = cluster(gpu={"enabled": True}, logging={"enabled": True}, jupyterhub={"enabled": True})
CLUSTERS = {"everything": EVERYTHING, "nfs-only": NFS_ONLY, "no-storage": BARE}


def releases(c: Cluster) -> list[Release]:
    return [r for a in ADDONS for r in a.active_releases(c)]


def cases() -> list[Any]:
    return [pytest.param(c, r, id=f"{name}-{r.name}") for name, c in CLUSTERS.items()
            for r in releases(c)]


def chart_dir(chart: str, version: str) -> Path:
    path = REFERENCE / REFERENCE_NAMES.get(chart, chart) / version
    if not path.is_dir():
        pytest.skip(f"reference chart data absent: {path}")
    return path


def defaults(chart: str, version: str) -> dict[str, Any]:
    data = yaml.safe_load((chart_dir(chart, version) / "values.yaml").read_text(encoding="utf-8")) or {}
    assert isinstance(data, dict)
    return data


def unknown_paths(values: Any, default: Any, prefix: str, allowed: set[str]) -> list[str]:
    """Key paths of ``values`` that ``default`` lacks (lists and scalars are leaves)."""
    if not isinstance(values, dict) or prefix in allowed:
        return []
    if not isinstance(default, dict):
        return [prefix] if values else []
    missing = []
    for key, value in values.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if key not in default:
            if path not in allowed:
                missing.append(path)
            continue
        missing += unknown_paths(value, default[key], path, allowed)
    return missing


def dig(data: dict[str, Any], dotted: str) -> Any:
    for key in dotted.split("."):
        data = data[key]
    return data


def check_key_paths(release: Release, version: str, values: dict[str, Any]) -> list[str]:
    chart = release.chart.name
    base = defaults(chart, version)
    allowed = ALLOWED_USER_MAPS.get(chart, set())
    missing = []
    for key, value in values.items():
        entry_default = ENTRY_DEFAULTS.get(chart, {}).get(key)
        if entry_default is not None:
            default = dig(base, entry_default)
            for name, entry in (value or {}).items():
                missing += [p.replace(f"{key}.*", f"{key}.{name}", 1)
                            for p in unknown_paths(entry, default, f"{key}.*", allowed)]
            continue
        sub = SUBCHARTS.get(chart, {}).get(key)
        default = base.get(key)
        if sub is not None:
            merged = {**defaults(*sub), **(default or {})}
            default = merged
        if key not in base and sub is None:
            missing.append(key)
            continue
        missing += unknown_paths(value, default, key, allowed)
    return missing


@pytest.mark.parametrize(("c", "release"), cases())
def test_every_key_path_exists_in_the_pinned_chart(c: Cluster, release: Release) -> None:
    version = release.version(c)
    values = yaml.safe_load(render_values(c, release, addon_context(c, GPU_FACTS)))
    assert isinstance(values, dict) and (values or release.name == "slurm-operator-crds")
    assert check_key_paths(release, version, values) == []


def test_the_key_path_check_follows_slurm_entries_to_their_defaults() -> None:
    release = get_addon("slurm").releases[2]
    values = {"nodesets": {"h100-x8": {"useResourceLimits": True, "replicas": 2,
                                       "slurmd": {"resources": {"limits": {}}}}},
              "loginsets": {"login": {"servce": {}}}}
    assert check_key_paths(release, "1.2.1", values) == [
        "nodesets.h100-x8.useResourceLimits", "loginsets.login.servce"]


def test_the_key_path_check_catches_a_wrong_key() -> None:
    release = get_addon("gpu").releases[0]
    values = {"driver": {"enabled": True, "instal": True}, "dcgmExporter": {"servicemonitor": {}}}
    assert check_key_paths(release, "v26.3.3", values) == ["driver.instal", "dcgmExporter.servicemonitor"]


def merged(default: Any, values: Any) -> Any:
    """What Helm validates: the chart's defaults with the values on top (lists replaced)."""
    if isinstance(default, dict) and isinstance(values, dict):
        return {**default, **{k: merged(default.get(k), v) for k, v in values.items()}}
    return values


def validator(schema: dict[str, Any]) -> jsonschema.protocols.Validator:
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", CLUSTERS)
def test_loki_schema_accepts_the_values(name: str) -> None:
    c = CLUSTERS[name]
    loki = next(r for r in releases(c) if r.name == "loki")
    schema = json.loads((chart_dir("loki", loki.version(c)) / "values.schema.json").read_text())
    values = merged(defaults("loki", loki.version(c)), yaml.safe_load(render_values(c, loki)))
    errors = [e.message for e in validator(schema).iter_errors(values)]
    assert errors == []


@pytest.mark.parametrize("name", CLUSTERS)
def test_jupyterhub_schema_accepts_the_values(name: str) -> None:
    c = CLUSTERS[name]
    hub = next(r for r in releases(c) if r.name == "jupyterhub")
    schema = yaml.safe_load((chart_dir("jupyterhub", hub.version(c)) / "values.schema.yaml").read_text())
    values = yaml.safe_load(render_values(c, hub))
    full = merged(defaults("jupyterhub", hub.version(c)), values)
    errors = [e.message for e in validator(schema).iter_errors(full)]
    assert errors == []
    limits = [p.get("kubespawner_override", {}).get("extra_resource_limits")
              for p in values["singleuser"]["profileList"]]
    assert values["hub"]["config"]["JupyterHub"]["authenticator_class"] != "dummy"
    if name == "everything":
        assert limits == [None, {"nvidia.com/gpu": "1"}, {"nvidia.com/gpu": "8"}]


def test_persistence_only_with_a_storage_class() -> None:
    mon = get_addon("monitoring").releases[0]
    with_storage = yaml.safe_load(render_values(NFS_ONLY, mon))
    spec = with_storage["prometheus"]["prometheusSpec"]
    assert spec["retention"] == "15d"
    assert spec["storageSpec"]["volumeClaimTemplate"]["spec"]["storageClassName"] == "nfs-client"
    assert spec["storageSpec"]["volumeClaimTemplate"]["spec"]["resources"]["requests"]["storage"] == "50Gi"
    assert spec["serviceMonitorSelectorNilUsesHelmValues"] is False
    bare = yaml.safe_load(render_values(BARE, mon))
    assert "storageSpec" not in bare["prometheus"]["prometheusSpec"]
    assert "persistence" not in bare["grafana"]


def test_gpu_operator_values_follow_the_spec() -> None:
    gpu = get_addon("gpu").releases[0]
    values = yaml.safe_load(render_values(EVERYTHING, gpu))
    assert values["driver"] == {"enabled": True, "version": "580.126.20"}
    assert values["mig"] == {"strategy": "mixed"} and values["migManager"] == {"enabled": True}
    assert values["dcgmExporter"]["serviceMonitor"]["enabled"] is True
    labels = values["dcgmExporter"]["serviceMonitor"]["additionalLabels"]
    assert labels == {"release": "kube-prometheus-stack"}
    sharing = yaml.safe_load(values["devicePlugin"]["config"]["data"]["any"])
    assert sharing["sharing"]["timeSlicing"]["resources"][0]["replicas"] == 4
    no_monitoring = cluster(monitoring={"enabled": False})
    plain = yaml.safe_load(render_values(no_monitoring, gpu))
    assert plain["driver"] == {"enabled": False}
    assert plain["dcgmExporter"]["serviceMonitor"] == {"enabled": False}
    assert "config" not in plain["devicePlugin"] and plain["migManager"] == {"enabled": False}


def test_chart_versions_are_overridable() -> None:
    c = cluster(monitoring={"chartVersion": "88.5.3"}, gpu={"operatorVersion": "v26.7.0"})
    assert get_addon("monitoring").releases[0].version(c) == "88.5.3"
    assert get_addon("gpu").releases[0].version(c) == "v26.7.0"
    assert get_addon("monitoring").releases[0].version(BARE) == "87.5.1"


def test_the_gpu_dashboard_uses_dcgm_metrics_and_is_a_sidecar_configmap() -> None:
    dashboard = json.loads(gpu_dashboard_json())
    exprs = " ".join(t["expr"] for p in dashboard["panels"] for t in p["targets"])
    for metric in ("DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_GPU_TEMP",
                   "DCGM_FI_DEV_POWER_USAGE", "DCGM_FI_DEV_XID_ERRORS"):
        assert metric in exprs
    manifests = addon_manifests(BARE, get_addon("monitoring"))
    configmap = yaml.safe_load(manifests["dashboard-gpu.yaml"])
    assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(configmap["data"]["deepctl-gpu.json"]) == dashboard


def test_gpu_alert_rules_cover_xid_ecc_temperature_and_missing_gpus() -> None:
    values = yaml.safe_load(render_values(BARE, get_addon("monitoring").releases[0]))
    rules = values["additionalPrometheusRulesMap"]["deepctl-gpu"]["groups"][0]["rules"]
    text = " ".join(r["expr"] for r in rules)
    assert {"GpuXidError", "GpuEccDoubleBitErrors", "GpuTemperatureHigh", "GpuMissing"} <= {
        r["alert"] for r in rules}
    assert "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL" in text and "DCGM_FI_DEV_XID_ERRORS" in text


def test_grafana_password_is_only_in_its_private_secret_file(tmp_path: Path) -> None:
    state = StateDir(tmp_path / "state").create()
    secret = grafana_admin_secret(state)
    password = str(yaml.safe_load(secret.path.read_text())["stringData"]["admin-password"])
    assert len(password) >= 24
    assert stat.S_IMODE(secret.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(secret.path.parent.stat().st_mode) == 0o700
    assert grafana_admin_secret(state).path.read_text() == secret.path.read_text()  # kept
    for c in CLUSTERS.values():
        for release in releases(c):
            assert password not in render_values(c, release)
        for addon in ADDONS:
            assert all(password not in text for text in addon_manifests(c, addon).values())
    mon = yaml.safe_load(render_values(BARE, get_addon("monitoring").releases[0]))
    assert mon["grafana"]["admin"]["existingSecret"] == secret.name == "grafana-admin"


KUBESPRAY_VARS = REFERENCE.parent / "kubespray-v2.31.0" / "other_role_defaults.yml"


def test_kubespray_declares_the_nvidia_runtime_the_operator_installs() -> None:
    """Every Kubespray run (deploy, add-node, upgrade) renders containerd's config with the
    nvidia runtime, pointing where the GPU Operator's toolkit installs it (kubespray #12277)."""
    from deepctl.kubevars.render import render_all_vars as render_cluster_vars

    group_vars = render_cluster_vars(BARE)  # group_vars/k8s_cluster of every Kubespray run
    (runtime,) = group_vars["containerd_additional_runtimes"]
    gpu = yaml.safe_load(render_values(BARE, get_addon("gpu").releases[0]))
    assert runtime["name"] == "nvidia" == gpu["toolkit"]["env"][1]["value"]
    binary = gpu["toolkit"]["installDir"] + "/toolkit/nvidia-container-runtime"
    assert runtime["options"]["BinaryName"] == binary
    assert {"name": "CONTAINERD_SET_AS_DEFAULT", "value": "false"} in gpu["toolkit"]["env"]
    if KUBESPRAY_VARS.exists():
        assert "containerd_additional_runtimes:" in KUBESPRAY_VARS.read_text(encoding="utf-8")
    assert "containerd_additional_runtimes" not in render_cluster_vars(cluster(gpu={"enabled": False}))
