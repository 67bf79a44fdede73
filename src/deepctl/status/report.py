"""``deepctl status`` as a library call: read facts, history and the cluster, then judge."""

from __future__ import annotations

from deepctl.preflight.saved import expected_gpus
from deepctl.status.assess import assess
from deepctl.status.model import StatusReport
from deepctl.status.platform import namespaces_to_read
from deepctl.workspace import Workspace

HISTORY_LIMIT = 5


def status_report(ws: Workspace, history_limit: int = HISTORY_LIMIT,
                  timeout_s: float | None = None) -> StatusReport:
    """The status of the workspace's cluster.

    Without a kubeconfig in the state directory the cluster is not deployed yet and the API
    is not contacted. ``timeout_s`` bounds reading the API as a whole. Raises
    :class:`~deepctl.errors.ApiUnreachable` when the API cannot be read (in time).
    """
    from deepctl.state.runs import list_runs

    cluster = ws.cluster
    runs = list_runs(ws.state, limit=history_limit)
    facts = expected_gpus(ws.state, (h.name for h in cluster.gpu_hosts))
    if not ws.state.kubeconfig.is_file():
        return assess(cluster, facts, None, runs)
    from deepctl.status.collect import collect

    workload_ns, service_ns = namespaces_to_read(cluster)
    data = collect(ws.state.kubeconfig, workload_ns, service_ns, timeout_s)
    return assess(cluster, facts, data, runs)
