"""The data of ``deepctl status``: what the collector read, and the report computed from it.

:class:`ClusterData` holds API objects exactly as the Kubernetes API returns them (plain JSON
dicts: ``metadata``, ``spec``, ``status``), so :func:`deepctl.status.assess.assess` can be
tested with small literal inputs and no client library. :class:`StatusReport` is everything
the screen and ``--json`` show.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from deepctl.state.runs import RunSummary

ApiObject = dict[str, Any]
Health = Literal["healthy", "degraded", "unknown"]
DeployState = Literal["deployed", "not-deployed"]
Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class ClusterData:
    """What the collector read from one cluster (items of each list response)."""

    endpoint: str
    nodes: list[ApiObject] = field(default_factory=list)
    pods: list[ApiObject] = field(default_factory=list)  # running pods, all namespaces
    workloads: dict[str, list[ApiObject]] = field(default_factory=dict)  # namespace -> items
    cluster_policies: list[ApiObject] | None = None  # None: the CRD is not installed
    storage_classes: list[ApiObject] = field(default_factory=list)
    services: dict[str, list[ApiObject]] = field(default_factory=dict)  # namespace -> items


@dataclass(frozen=True)
class Problem:
    """One thing wrong; errors make the cluster ``degraded``, warnings are only shown."""

    subject: str  # "node gpu-1", "DaemonSet gpu-operator/nvidia-device-plugin-daemonset"
    message: str
    severity: Severity = "error"

    def format(self) -> str:
        return f"{self.subject}: {self.message}"


@dataclass(frozen=True)
class NodeGpus:
    capacity: int = 0
    allocatable: int = 0
    in_use: int = 0
    expected: int | None = None  # from preflight facts; None: unknown
    product: str | None = None  # nvidia.com/gpu.product
    count_label: int | None = None  # nvidia.com/gpu.count (physical GPUs, from GFD)
    mig_config: str | None = None  # nvidia.com/mig.config
    mig_strategy: str | None = None  # nvidia.com/mig.strategy
    mig_devices: dict[str, int] = field(default_factory=dict)  # nvidia.com/mig-* allocatable


@dataclass(frozen=True)
class NodeStatus:
    name: str
    in_spec: bool
    in_cluster: bool
    ready: bool | None  # None: not in the cluster
    status: str  # "Ready", "NotReady", "Ready,SchedulingDisabled", "missing"
    roles: list[str] = field(default_factory=list)
    kubelet: str | None = None
    internal_ip: str | None = None
    taints: list[str] = field(default_factory=list)
    gpu_host: bool = False  # gpu: true in the spec
    gpus: NodeGpus = field(default_factory=NodeGpus)


@dataclass(frozen=True)
class Workload:
    kind: str  # Deployment | DaemonSet | StatefulSet
    name: str
    desired: int
    ready: int

    @property
    def is_ready(self) -> bool:
        return self.ready >= self.desired


@dataclass(frozen=True)
class AddonStatus:
    name: str
    namespace: str
    workloads: list[Workload]
    ready: bool


@dataclass(frozen=True)
class Endpoint:
    name: str  # "Grafana", "JupyterHub"
    namespace: str
    service: str | None
    type: str | None  # NodePort | LoadBalancer | ClusterIP
    url: str | None  # None: not reachable from outside the cluster
    port_forward: str | None = None  # for a cluster-internal Service: the kubectl command


@dataclass(frozen=True)
class ClusterPolicyStatus:
    name: str
    state: str  # status.state: "ready", "notReady", ... or "unknown"


@dataclass(frozen=True)
class Platform:
    addons: list[AddonStatus] = field(default_factory=list)
    cluster_policy: ClusterPolicyStatus | None = None
    default_storage_class: str | None = None
    storage_classes: list[str] = field(default_factory=list)
    endpoints: list[Endpoint] = field(default_factory=list)


@dataclass(frozen=True)
class Totals:
    nodes_ready: int = 0
    nodes_total: int = 0
    gpus_capacity: int = 0
    gpus_allocatable: int = 0
    gpus_expected: int = 0  # sum over GPU hosts whose count preflight saw
    gpus_expected_unknown: list[str] = field(default_factory=list)  # GPU hosts without facts
    gpus_in_use: int = 0


@dataclass(frozen=True)
class StatusReport:
    cluster: str
    state: DeployState
    health: Health
    endpoint: str | None = None
    nodes: list[NodeStatus] = field(default_factory=list)
    platform: Platform = field(default_factory=Platform)
    totals: Totals = field(default_factory=Totals)
    problems: list[Problem] = field(default_factory=list)
    history: list[RunSummary] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def to_json(self) -> dict[str, Any]:
        """The report as one JSON document (camelCase keys): what ``dataclasses.asdict`` and
        camelCased keys give, built in one pass (asdict deep-copies every value, 5,000 rows
        of nodes take it a second)."""
        data = _plain(self)
        for run in data["history"]:
            run.pop("stages", None)  # per-stage detail is `deepctl runs --json`'s
        assert isinstance(data, dict)
        return data


_LEAVES = (str, int, float, bool, type(None))


@functools.cache
def _field_keys(cls: type) -> tuple[tuple[str, str], ...]:
    """(attribute, JSON key) of each field of a dataclass."""
    return tuple((f.name, _camel_key(f.name)) for f in dataclasses.fields(cls))


def _plain(value: Any) -> Any:
    """Dataclasses, dicts, lists and tuples -> JSON values, every key camelCased."""
    if isinstance(value, _LEAVES):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {key: _plain(getattr(value, name)) for name, key in _field_keys(type(value))}
    if isinstance(value, dict):
        return {_camel_key(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return copy.deepcopy(value)


def _camel_key(key: Any) -> Any:
    if not isinstance(key, str) or "_" not in key or key.startswith("nvidia.com"):
        return key
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)
