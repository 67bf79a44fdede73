"""Read a cluster through its admin kubeconfig: the only I/O of ``deepctl status``.

Uses the ``kubernetes`` client's :class:`ApiClient` (imported here only, so ``deepctl --help``
stays fast) for the kubeconfig's auth and TLS, with a short timeout and one retry. Lists are
read by path, not through the generated API classes (``CoreV1Api`` & co.: importing them
builds a pydantic validator for each of their thousands of methods, and their models are
not used), and each page is decoded once as plain JSON (:mod:`deepctl.status.pages`) for
:func:`deepctl.status.assess.assess`. Any failure to reach or use the API is an
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
from urllib.parse import quote

from deepctl.errors import ApiUnreachable
from deepctl.status.deadline import DeadlineExceeded, within
from deepctl.status.model import ApiObject, ClusterData
from deepctl.status.nodes import gpu_pod, node_fields
from deepctl.status.pages import NotAList, Shape, decode_page

_CONNECTION_PREFIX = re.compile(r"^(<[^>]*>|HTTPS?Connection\([^)]*\)): ")
CONNECT_TIMEOUT_S = 3.0
READ_TIMEOUT_S = 10.0
PAGE = 500  # items per list request (kubectl's --chunk-size default)
WORKLOAD_KINDS = ("deployments", "daemonsets", "statefulsets")  # apps/v1, in this order


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
    """Reads list endpoints by path through the client's :class:`ApiClient` (its auth and TLS)
    and turns every failure into :class:`ApiUnreachable`."""

    def __init__(self, api: Any, kubeconfig: Path) -> None:
        self.api = api
        self.kubeconfig = kubeconfig
        self.endpoint = str(api.configuration.host)

    def items(self, path: str, *, shape: Shape = "whole", missing_ok: bool = False,
              keep: Callable[[ApiObject], ApiObject | None] | None = None,
              query: tuple[tuple[str, str], ...] = ()) -> list[ApiObject] | None:
        """Every item of the list at ``path``, read in pages of :data:`PAGE` (``limit``/
        ``continue``, as kubectl does); ``shape`` decodes only the fields status reads of
        nodes and pods (:mod:`deepctl.status.pages`); ``keep`` trims each item (or drops it:
        None) as its page arrives, so only what is kept stays in memory."""
        out: list[ApiObject] = []
        token: str | None = None
        while True:
            data = self._page(path, query, token, missing_ok)
            if data is None:
                return None
            try:
                page = decode_page(data, shape)
            except NotAList as exc:
                raise self._error(str(exc)) from None
            for item in page.items:
                kept = keep(item) if keep is not None else item
                if kept is not None:
                    out.append(kept)
            token = page.continue_token
            if token is None:
                return out

    def _page(self, path: str, query: tuple[tuple[str, str], ...], token: str | None,
              missing_ok: bool) -> bytes | None:
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        params = [*query, ("limit", str(PAGE)), *((("continue", token),) if token else ())]
        try:
            request = self.api.param_serialize(
                method="GET", resource_path=path, query_params=params,
                header_params={"Accept": "application/json"}, auth_settings=["BearerToken"])
            response = self.api.call_api(
                *request, _request_timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S))
            data = response.read()
        except ApiException as exc:  # the client's own (TLS) failures
            raise self._error(_api_reason(exc.status, exc.reason, exc.body)) from None
        except (HTTPError, OSError) as exc:
            raise self._error(_network_reason(exc)) from None
        if missing_ok and response.status == 404:
            return None
        if not 200 <= response.status <= 299:
            raise self._error(_api_reason(response.status, response.reason, data))
        return bytes(data)

    def _error(self, reason: str) -> ApiUnreachable:
        return ApiUnreachable(
            f"cannot read the Kubernetes API at {self.endpoint} (kubeconfig {self.kubeconfig}): "
            f"{reason}",
            hint=_hint(self.kubeconfig),
        )


def _api_reason(code: Any, reason: Any, body: Any) -> str:
    """``HTTP 401 Unauthorized: <the Status object's message>``."""
    message = ""
    with contextlib.suppress(TypeError, ValueError, AttributeError):
        message = str(json.loads(body).get("message", ""))
    status = f"HTTP {code} {reason}" if code else str(reason)
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
    try:
        nodes = reader.items("/api/v1/nodes", shape="node", keep=node_fields) or []
        # only running pods, and of those only what GPU requests need (gpu_pod)
        pods = reader.items("/api/v1/pods", shape="pod", keep=gpu_pod,
                            query=(("fieldSelector", "status.phase=Running"),)) or []
        workloads = {
            ns: [item for kind in WORKLOAD_KINDS
                 for item in reader.items(f"/apis/apps/v1/namespaces/{quote(ns, safe='')}/{kind}") or []]
            for ns in workload_namespaces
        }
        policies = reader.items("/apis/nvidia.com/v1/clusterpolicies", missing_ok=True)
        classes = reader.items("/apis/storage.k8s.io/v1/storageclasses") or []
        services = {ns: reader.items(f"/api/v1/namespaces/{quote(ns, safe='')}/services") or []
                    for ns in service_namespaces}
    finally:
        api.close()
    return ClusterData(reader.endpoint, nodes, pods, workloads, policies, classes, services)
