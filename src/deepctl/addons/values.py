"""Pure rendering of Helm values files from the spec (``templates/addons/<addon>/*.yaml.j2``).

:func:`addon_context` derives what several addons share (which StorageClass exists, whether
monitoring is on, where Loki listens); :func:`render_values` renders one release's values as
YAML text. No secret is ever part of a context: secrets reach the cluster as Kubernetes
Secrets (see :mod:`deepctl.addons.secrets`) that the values only name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import yaml

from deepctl.addons.decisions import (
    mig_manager_on,
    operator_mig_strategy,
    storage_classes,
)
from deepctl.addons.offline import image_overrides, merge
from deepctl.addons.registry import Release
from deepctl.addons.slurm import SlurmLayout, slurm_layout
from deepctl.clusterspec.models import Cluster
from deepctl.templates import render

if TYPE_CHECKING:
    from deepctl.preflight.gpu import GpuInventory

GRAFANA_ADMIN_SECRET = "grafana-admin"
SERVICE_MONITOR_LABELS = {"release": "kube-prometheus-stack"}
LOKI_URL = "http://loki.logging.svc:3100"


@dataclass(frozen=True)
class AddonContext:
    """Facts about the whole platform that a values template may use."""

    storage_class: str | None  # the class PVCs use; None: no dynamic storage, no persistence
    default_class: str | None  # the cluster's default StorageClass, if deepctl made one
    monitoring: bool
    logging: bool
    nfs_server: str | None
    ceph_nodes: list[dict[str, Any]] = field(default_factory=list)
    gpu_nodes: list[str] = field(default_factory=list)
    grafana_admin_secret: str = GRAFANA_ADMIN_SECRET
    service_monitor_labels: dict[str, str] = field(
        default_factory=lambda: dict(SERVICE_MONITOR_LABELS)
    )
    loki_url: str = LOKI_URL
    mig_manager: bool = False  # the operator's MIG manager runs (spec, else: MIG in use)
    operator_mig_strategy: str = "single"  # the operator's mig.strategy ("none" is not one)
    slurm: SlurmLayout | None = None  # with Slurm on: NodeSets and partitions (addons.slurm)


def nfs_server_address(cluster: Cluster) -> str | None:
    """The NFS server's address: the external one, else the managed host's internal address."""
    nfs = cluster.spec.addons.storage.nfs
    if nfs.external_server:
        return nfs.external_server
    host = cluster.host(nfs.server) if nfs.server else None
    if host is None:
        return None
    return str(host.internal_address) if host.internal_address else host.address


def rook_device_name(path: str) -> str:
    """Rook's ``devices[].name``: a kernel name (``nvme1n1``) or a full udev path (by-id)."""
    name = path.removeprefix("/dev/")
    return name if "/" not in name else path


def addon_context(cluster: Cluster, gpus: Mapping[str, GpuInventory] | None = None) -> AddonContext:
    """The shared facts for ``cluster`` (pure); ``gpus``: what preflight saw per host."""
    storage_class, default_class = storage_classes(cluster)
    addons = cluster.spec.addons
    return AddonContext(
        storage_class=storage_class,
        default_class=default_class,
        monitoring=addons.monitoring.enabled,
        logging=addons.logging.enabled,
        nfs_server=nfs_server_address(cluster) if addons.storage.nfs.enabled else None,
        ceph_nodes=[
            {"name": h.name, "devices": [rook_device_name(d) for d in h.ceph_devices]}
            for h in cluster.spec.hosts if h.ceph_devices
        ],
        gpu_nodes=[h.name for h in cluster.gpu_hosts],
        mig_manager=mig_manager_on(cluster),
        operator_mig_strategy=operator_mig_strategy(cluster),
        slurm=slurm_layout(cluster, gpus or {}) if addons.slurm.enabled else None,
    )


def _to_json(value: Any) -> str:
    """YAML-safe scalar/collection text for templates (JSON is valid YAML)."""
    return json.dumps(value)


def render_values(cluster: Cluster, release: Release, context: AddonContext | None = None) -> str:
    """The values file of ``release`` for ``cluster``, as YAML text (pure)."""
    ctx = context or addon_context(cluster)
    text = render(
        release.values_template,
        cluster=cluster,
        spec=cluster.spec,
        addons=cluster.spec.addons,
        ctx=ctx,
        ctx_dict=asdict(ctx),
        release=release,
        version=release.version(cluster),
        j=_to_json,
    )
    overrides = image_overrides(cluster, release)
    if not overrides:
        return text
    lines = text.splitlines()
    leading = next((i for i, line in enumerate(lines) if not line.startswith("#")), len(lines))
    header = "".join(line + "\n" for line in lines[:leading])
    merged = merge(parse_values(text), overrides)
    return (header + "# spec.offline: every image from the mirror registry.\n"
            + yaml.safe_dump(merged, sort_keys=False, width=1000))


def parse_values(text: str) -> dict[str, Any]:
    """Parse rendered values (a mapping; ``{}`` for an empty file)."""
    data = yaml.safe_load(text)
    return data if isinstance(data, dict) else {}
