"""Every release deepctl installs, rendered by its real pinned chart with deepctl's values.

The charts are ``../shared/charts-src`` (upstream chart directories, skipped when absent),
rendered offline by helm-python-sdk (Helm's own code: defaults merged, every
``values.schema.json`` of the chart and its subcharts applied, templates rendered). A values
change the chart rejects fails ``test_the_chart_accepts_deepctl_values``; one that renders to
something else than intended fails a cross-object test below. Renders are cached
(tests/charts/render.py): each distinct values file is rendered once per session.
"""

from __future__ import annotations

import base64
import copy
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml

from deepctl.addons import ADDONS, addon_context
from deepctl.addons.manifests import namespace_manifest
from deepctl.clusterspec.rules import check
from deepctl.kubevars.gpu_runtime import nvidia_runtime
from deepctl.kubevars.render import render_all_vars
from tests.charts.render import Rendered, chart_dir, render_chart, render_plan
from tests.charts.specs import SPECS, cases, gpus_of, plans

helm_errors = pytest.importorskip(
    "helm_python.errors", reason="helm-python-sdk is not installed (pip install -e '.[test]')")
HelmRenderError, HelmValuesError = helm_errors.HelmRenderError, helm_errors.HelmValuesError
DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
GPU = "nvidia.com/gpu"


def rendered(spec: str, release: str) -> Rendered:
    return render_plan(plans(spec)[release])


def selects(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """A Kubernetes label selector against labels (None, an absent selector, selects nothing)."""
    if selector is None:
        return False
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expr in selector.get("matchExpressions") or []:
        value, op = labels.get(expr["key"]), expr["operator"]
        if (op == "In" and value not in expr["values"]) or (op == "NotIn" and value in expr["values"]) \
                or (op == "Exists" and value is None) or (op == "DoesNotExist" and value is not None):
            return False
    return True


def test_the_specs_are_valid_and_cover_every_release() -> None:
    for name, c in SPECS.items():
        assert [f.message for f in check(c) if f.severity == "error"] == [], name
    covered = {release for _, release in cases()}
    assert covered == {r.name for a in ADDONS for r in a.releases}


@pytest.mark.parametrize(("spec", "release"), cases())
def test_the_chart_accepts_deepctl_values(spec: str, release: str) -> None:
    objects = rendered(spec, release).objects
    assert objects
    keys = [(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in objects]
    assert len(keys) == len(set(keys)), "an object rendered twice"
    assert all(o.get("apiVersion") for o in objects)


@pytest.mark.parametrize(("spec", "release"), cases("gpu-operator"))
def test_cluster_policy_runtime_is_the_one_kubespray_declares(spec: str, release: str) -> None:
    c = SPECS[spec]
    policy = rendered(spec, release).one("ClusterPolicy")["spec"]
    (runtime,) = render_all_vars(c)["containerd_additional_runtimes"]
    assert runtime == nvidia_runtime()
    env = {e["name"]: e["value"] for e in policy["toolkit"]["env"]}
    assert env["CONTAINERD_RUNTIME_CLASS"] == runtime["name"] == policy["operator"]["runtimeClass"]
    assert env["CONTAINERD_SET_AS_DEFAULT"] == "false"
    binary = f"{policy['toolkit']['installDir']}/toolkit/nvidia-container-runtime"
    assert binary == runtime["options"]["BinaryName"]
    gpu = c.spec.addons.gpu
    assert policy["driver"]["enabled"] is gpu.driver.install
    if gpu.driver.install:
        assert policy["driver"]["version"] == gpu.driver.version
    assert policy["mig"]["strategy"] == (gpu.mig.strategy if gpu.mig.strategy != "none" else "single")


def gpu_namespace_labels() -> dict[str, str]:
    """The labels of the gpu-operator namespace deepctl applies (plus the API server's own)."""
    labels = yaml.safe_load(namespace_manifest("gpu-operator"))["metadata"]["labels"]
    return {**labels, "kubernetes.io/metadata.name": "gpu-operator"}


@pytest.mark.parametrize("spec", [s for s, r in cases("gpu-operator")])
def test_prometheus_selects_the_dcgm_service_monitor(spec: str) -> None:
    monitor = rendered(spec, "gpu-operator").one("ClusterPolicy")["spec"]["dcgmExporter"]["serviceMonitor"]
    if not SPECS[spec].spec.addons.monitoring.enabled:
        assert monitor["enabled"] is False
        return
    assert monitor["enabled"] is True
    prometheus = rendered(spec, "kube-prometheus-stack").one("Prometheus")["spec"]
    assert selects(prometheus.get("serviceMonitorSelector"), monitor["additionalLabels"])
    assert selects(prometheus.get("serviceMonitorNamespaceSelector"), gpu_namespace_labels())


def test_the_selector_check_has_teeth() -> None:
    chart_default = {"matchLabels": {"release": "kube-prometheus-stack"}}
    assert selects(chart_default, {"release": "kube-prometheus-stack", "app": "dcgm"})
    assert not selects(chart_default, {"app": "dcgm"})
    assert not selects(None, {"release": "kube-prometheus-stack"})  # nil: Prometheus picks none
    assert not selects({"matchExpressions": [{"key": "team", "operator": "In", "values": ["ml"]}]}, {})


def loki_datasource(spec: str) -> dict[str, Any]:
    maps = [m for m in rendered(spec, "kube-prometheus-stack").of_kind("ConfigMap")
            if "datasource.yaml" in (m.get("data") or {})]
    (source,) = [d for m in maps for d in yaml.safe_load(m["data"]["datasource.yaml"])["datasources"]
                 if d["type"] == "loki"]
    return dict(source)


@pytest.mark.parametrize("spec", [s for s, _ in cases("loki")])
def test_grafana_and_alloy_reach_a_service_the_loki_chart_creates(spec: str) -> None:
    loki = rendered(spec, "loki")
    urls = []
    if SPECS[spec].spec.addons.monitoring.enabled:
        urls.append(loki_datasource(spec)["url"])
    alloy_config = rendered(spec, "alloy").one("ConfigMap")["data"]["config.alloy"]
    urls.append(next(w.strip('"') for w in alloy_config.split() if "/loki/api/v1/push" in w))
    for url in urls:
        parsed = urlparse(url)
        service, namespace = (parsed.hostname or "").split(".")[:2]
        assert namespace == loki.namespace
        ports = [p["port"] for p in loki.one("Service", service)["spec"]["ports"]]
        assert parsed.port in ports, f"{url}: Service {service} listens on {ports}"


@pytest.mark.parametrize("spec", list(SPECS))
def test_exactly_the_default_storage_class_deepctl_chose(spec: str) -> None:
    classes = [sc for name in plans(spec) for sc in rendered(spec, name).of_kind("StorageClass")]
    names = [sc["metadata"]["name"] for sc in classes]
    defaults = [sc["metadata"]["name"] for sc in classes
                if (sc["metadata"].get("annotations") or {}).get(DEFAULT_CLASS) == "true"]
    context = addon_context(SPECS[spec])
    assert defaults == ([context.default_class] if context.default_class else [])
    assert len(names) == len(set(names))
    if context.storage_class:
        assert context.storage_class in names  # the class every volume deepctl asks for uses


@pytest.mark.parametrize("spec", [s for s, _ in cases("jupyterhub")])
def test_jupyterhub_gpu_profiles_request_gpus(spec: str) -> None:
    hub = rendered(spec, "jupyterhub").one("Secret", "hub")
    values = yaml.safe_load(base64.b64decode(hub["data"]["values.yaml"]))
    profiles = values["singleuser"]["profileList"]
    wanted = SPECS[spec].spec.addons.jupyterhub.gpu_profiles
    assert len(profiles) == len(wanted)
    for count, profile in zip(wanted, profiles, strict=True):
        limits = (profile.get("kubespawner_override") or {}).get("extra_resource_limits")
        assert limits == ({GPU: str(count)} if count else None), profile["slug"]


@pytest.mark.parametrize("spec", [s for s, _ in cases("slurm")])
def test_slurm_nodesets_take_every_gpu_preflight_saw(spec: str) -> None:
    c = SPECS[spec]
    objects = rendered(spec, "slurm")
    layout = addon_context(c, gpus_of(c)).slurm
    assert layout is not None and layout.missing_facts == ()
    for nodeset in layout.nodesets:
        body = objects.one("NodeSet", f"slurm-worker-{nodeset.name}")["spec"]
        pod = body["template"]["spec"]
        term = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        assert term["nodeSelectorTerms"][0]["matchExpressions"] == [
            {"key": "kubernetes.io/hostname", "operator": "In", "values": list(nodeset.hosts)}]
        assert body["replicas"] == len(nodeset.hosts)
        if nodeset.gpus:
            assert {gpus_of(c)[h].count for h in nodeset.hosts} == {nodeset.gpus}
            resources = body["slurmd"]["resources"]
            assert resources["requests"][GPU] == resources["limits"][GPU] == nodeset.gpus
            assert body["extraConf"] == f"Gres={nodeset.gres}"
            assert pod["runtimeClassName"] == "nvidia"
            assert {"key": GPU, "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]
        else:
            assert GPU not in str(body["slurmd"].get("resources"))


def test_slurm_partitions_gres_login_and_accounting_render() -> None:
    objects = rendered("everything", "slurm")
    conf = objects.one("Controller")["spec"]["extraConf"].splitlines()
    assert conf == ["GresTypes=gpu",
                    "PartitionName=a100 Nodes=a100-x4 Default=NO MaxTime=UNLIMITED State=UP",
                    "PartitionName=cpu Nodes=cpu Default=NO MaxTime=UNLIMITED State=UP",
                    "PartitionName=h100 Nodes=h100-x8 Default=YES MaxTime=UNLIMITED State=UP"]
    nodes = {n["metadata"]["name"]: n["spec"].get("extraConf") for n in objects.of_kind("NodeSet")}
    assert nodes == {"slurm-worker-h100-x8": "Gres=gpu:h100:8", "slurm-worker-a100-x4": "Gres=gpu:a100:4",
                     "slurm-worker-cpu": None}
    h100 = objects.one("NodeSet", "slurm-worker-h100-x8")["spec"]["template"]["spec"]
    dedicated = {"key": "dedicated", "operator": "Equal", "value": "ml", "effect": "NoSchedule"}
    assert dedicated in h100["tolerations"]
    assert objects.one("ConfigMap", "slurm-config-extra")["data"]["gres.conf"].strip() == "AutoDetect=nvidia"
    login = objects.one("LoginSet")["spec"]
    assert login["replicas"] == 1 and login["service"]["spec"]["type"] == "NodePort"
    assert login["rootSshAuthorizedKeys"].strip() == "ssh-ed25519 AAAAC3 ops"
    storage = objects.one("Accounting")["spec"]["storageConfig"]
    assert storage["host"] == "db.example.org"
    assert storage["passwordKeyRef"] == {"name": "slurm-accounting-db", "key": "password"}
    assert objects.one("Controller")["spec"]["persistence"]["storageClassName"] == "ceph-block"
    assert rendered("nfs-only", "slurm").of_kind("Accounting") == []


def test_the_slurm_operator_runs_without_webhook_or_cert_manager() -> None:
    operator = rendered("everything", "slurm-operator")
    kinds = {o["kind"] for o in operator.objects}
    assert "CustomResourceDefinition" not in kinds and "Certificate" not in kinds
    assert not any("webhook" in o["metadata"]["name"] for o in operator.objects)
    crds = {o["spec"]["names"]["kind"] for o in rendered("everything", "slurm-operator-crds").objects}
    assert {"Controller", "NodeSet", "LoginSet", "Accounting", "RestApi"} <= crds


def mutated(spec: str, release: str, path: str, value: Any) -> tuple[dict[str, Any], Rendered]:
    """deepctl's values for the release with one key set to ``value`` (dotted path)."""
    item = plans(spec)[release]
    values = copy.deepcopy(yaml.safe_load(item.values))
    *parents, last = path.split(".")
    node = values
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value
    return values, render_plan(item)


@pytest.mark.parametrize(("release", "path", "value", "error"), [
    ("jupyterhub", "proxy.service.type", "Nodeport", HelmValuesError),  # schema enum
    ("jupyterhub", "singleuser.profileLists", [], HelmValuesError),  # schema: unknown key
    ("slurm", "partitions.h100.nodesets", ["h100-x2"], HelmRenderError),  # template `fail`
])
def test_a_values_change_the_chart_rejects_fails(release: str, path: str, value: Any,
                                                 error: type[Exception]) -> None:
    values, good = mutated("everything", release, path, value)
    item = plans("everything")[release]
    with pytest.raises(error):
        render_chart(chart_dir(item.release.chart.name, item.version), values,
                     good.release, good.namespace)
