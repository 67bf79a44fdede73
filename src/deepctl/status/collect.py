"""Read a cluster through its admin kubeconfig: the only I/O of ``deepctl status``.

Uses the ``kubernetes`` client (imported here only, so ``deepctl --help`` stays fast) with a
short timeout and one retry. Responses are kept as the API's own JSON (``_preload_content=False``)
for :func:`deepctl.status.assess.assess`. Any failure to reach or use the API is an
:class:`ApiUnreachable` naming the endpoint and the kubeconfig; the credentials never appear
in messages.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import re
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

from deepctl.errors import ApiUnreachable
from deepctl.status.deadline import DeadlineExceeded, within
from deepctl.status.model import ApiObject, ClusterData
from deepctl.status.nodes import gpu_pod, node_fields

_CONNECTION_PREFIX = re.compile(r"^(<[^>]*>|HTTPS?Connection\([^)]*\)): ")
CONNECT_TIMEOUT_S = 3.0
READ_TIMEOUT_S = 10.0
PAGE = 500  # items per list request (kubectl's --chunk-size default)
KINDS = (("Deployment", "list_namespaced_deployment"),
         ("DaemonSet", "list_namespaced_daemon_set"),
         ("StatefulSet", "list_namespaced_stateful_set"))


def _hint(kubeconfig: Path) -> str:
    return (f"check that the control plane is up and reachable from here "
            f"(`{shlex.join(['kubectl', '--kubeconfig', str(kubeconfig), 'get', 'nodes'])}`)")


def api_client(kubeconfig: Path) -> Any:
    """A client for the kubeconfig's current context (the file is never written back)."""
    from kubernetes import client, config

    configuration = client.Configuration()
    try:
        config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration,
                                persist_config=False)  # type: ignore[no-untyped-call]
    except (config.ConfigException, OSError, ValueError, TypeError) as exc:
        raise ApiUnreachable(f"cannot use kubeconfig {kubeconfig}: {exc}",
                             hint="it is written by the kubeconfig stage of `deepctl deploy`; "
                             "rerun the deploy to fetch it again") from None
    configuration.retries = 1
    return client.ApiClient(configuration)


class _Reader:
    """Calls list endpoints and turns every failure into :class:`ApiUnreachable`."""

    def __init__(self, api: Any, kubeconfig: Path) -> None:
        self.api = api
        self.kubeconfig = kubeconfig
        self.endpoint = str(api.configuration.host)

    def items(self, call: Callable[..., Any], *args: Any, missing_ok: bool = False,
              keep: Callable[[ApiObject], ApiObject | None] | None = None,
              **kwargs: Any) -> list[ApiObject] | None:
        """Every item of a list, read in pages of :data:`PAGE` (``limit``/``continue``, as
        kubectl does); ``keep`` trims each item (or drops it: None) as its page arrives, so
        only what is kept stays in memory."""
        out: list[ApiObject] = []
        token: str | None = None
        while True:
            body = self._page(call, args, kwargs, token, missing_ok)
            if body is None:
                return None
            items: list[Any] = body["items"]
            kind = str(body.get("kind", ""))
            # List responses leave kind out of their items; put it back for the assessment.
            item_kind = kind[:-4] if kind.endswith("List") else kind
            for item in items:
                if isinstance(item, dict):
                    whole: ApiObject = {"kind": item_kind, **item}
                    kept = keep(whole) if keep is not None else whole
                    if kept is not None:
                        out.append(kept)
            token = str((body.get("metadata") or {}).get("continue") or "") or None
            if token is None:
                return out

    def _page(self, call: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any],
              token: str | None, missing_ok: bool) -> dict[str, Any] | None:
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        paging: dict[str, Any] = {"limit": PAGE, **({"_continue": token} if token else {})}
        try:
            response = call(*args, _preload_content=False,
                            _request_timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S),
                            **paging, **kwargs)
            body = json.loads(response.data)
        except ApiException as exc:
            if missing_ok and exc.status == 404:
                return None
            raise self._error(_api_reason(exc)) from None
        except (HTTPError, OSError, ValueError) as exc:
            raise self._error(_network_reason(exc)) from None
        if not isinstance(body, dict) or not isinstance(body.get("items"), list):
            raise self._error("the response is not a Kubernetes list")
        return body

    def _error(self, reason: str) -> ApiUnreachable:
        return ApiUnreachable(
            f"cannot read the Kubernetes API at {self.endpoint} (kubeconfig {self.kubeconfig}): "
            f"{reason}",
            hint=_hint(self.kubeconfig),
        )


def _api_reason(exc: Any) -> str:
    message = ""
    with contextlib.suppress(TypeError, ValueError, AttributeError):
        message = str(json.loads(exc.body).get("message", ""))
    status = f"HTTP {exc.status} {exc.reason}" if exc.status else str(exc.reason)
    return f"{status}{': ' + message if message else ''}"


def _network_reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    text = str(reason if reason is not None else exc)
    # urllib3 prefixes its messages with the connection object; keep the cause.
    return _CONNECTION_PREFIX.sub("", text)


def collect(kubeconfig: Path, workload_namespaces: list[str],
            service_namespaces: list[str], timeout_s: float | None = None) -> ClusterData:
    """Read nodes, running pods, addon workloads and Services, ClusterPolicy, StorageClasses.

    ``timeout_s`` bounds the whole read (not each wait for a byte): past it, the connections
    are dropped and :class:`ApiUnreachable` says so.
    """
    try:
        api = api_client(kubeconfig)
        reader = _Reader(api, kubeconfig)
        if timeout_s is None:
            return _read_all(api, reader, workload_namespaces, service_namespaces)
        try:
            return within(timeout_s, lambda: _read_all(api, reader, workload_namespaces,
                                                       service_namespaces),
                          abort=api.rest_client.pool_manager.clear)
        except DeadlineExceeded:
            raise reader._error(f"no complete answer within {timeout_s:g} s (--timeout)") from None
    finally:
        remove_certificate_files()


def remove_certificate_files() -> None:
    """Remove the files the kubernetes client wrote a kubeconfig's certificates and key to.

    For an https server, ``load_kube_config`` writes the embedded ``*-data`` (the admin
    client key among them) to temporary files and removes them in an ``atexit`` hook: they
    stayed on disk for a whole ``status --watch``, and a Ctrl-C while the hook ran printed a
    traceback (issue 22). The read is over here: remove them now, and the hook with them.
    """
    from kubernetes.config import kube_config

    atexit.unregister(kube_config._cleanup_temp_files)
    kube_config._cleanup_temp_files()  # type: ignore[no-untyped-call]


def _read_all(api: Any, reader: _Reader, workload_namespaces: list[str],
              service_namespaces: list[str]) -> ClusterData:
    from kubernetes import client

    try:
        core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
        nodes = reader.items(core.list_node, keep=node_fields) or []
        # only running pods, and of those only what GPU requests need (gpu_pod)
        pods = reader.items(core.list_pod_for_all_namespaces, keep=gpu_pod,
                            field_selector="status.phase=Running") or []
        workloads = {
            ns: [item for kind, method in KINDS for item in reader.items(getattr(apps, method), ns) or []]
            for ns in workload_namespaces
        }
        policies = reader.items(client.CustomObjectsApi(api).list_cluster_custom_object,
                                "nvidia.com", "v1", "clusterpolicies", missing_ok=True)
        classes = reader.items(client.StorageV1Api(api).list_storage_class) or []
        services = {ns: reader.items(core.list_namespaced_service, ns) or []
                    for ns in service_namespaces}
    finally:
        api.close()
    return ClusterData(reader.endpoint, nodes, pods, workloads, policies, classes, services)
