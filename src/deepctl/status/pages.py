"""Pure: the bytes of one page of a Kubernetes list response -> its items and continue token.

At 5,000 nodes ``deepctl status`` reads about 40 MB of JSON: nodes carry their image lists,
annotations and managed fields, pods their whole specs. Nodes and pods are decoded with
``msgspec`` against types that name only the fields status reads
(:func:`deepctl.status.nodes.node_fields`, :func:`deepctl.status.nodes.gpu_pod`): the parser
skips everything else without building it. Every other list (a few workloads, Services,
StorageClasses) is decoded whole. Items get the list's kind (``NodeList`` -> ``Node``), which
the API leaves out of built-in list items.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, TypedDict

import msgspec

from deepctl.status.model import ApiObject

Shape = Literal["node", "pod", "whole"]

# "continue" is a Python keyword: the functional form names it.
_ListMeta = TypedDict("_ListMeta", {"continue": Any}, total=False)


class _NodeMeta(TypedDict, total=False):
    name: Any
    labels: Any


class _NodeSpec(TypedDict, total=False):
    taints: Any
    unschedulable: Any


class _NodeInfo(TypedDict, total=False):
    kubeletVersion: Any


class _NodeStatus(TypedDict, total=False):
    conditions: Any
    addresses: Any
    capacity: Any
    allocatable: Any
    nodeInfo: _NodeInfo | None


class _Node(TypedDict, total=False):
    kind: Any
    metadata: _NodeMeta | None
    spec: _NodeSpec | None
    status: _NodeStatus | None


class _PodMeta(TypedDict, total=False):
    name: Any
    namespace: Any


class _Resources(TypedDict, total=False):
    requests: Any
    limits: Any


class _Container(TypedDict, total=False):
    resources: _Resources | None


class _PodSpec(TypedDict, total=False):
    nodeName: Any
    containers: list[_Container] | None


class _PodStatus(TypedDict, total=False):
    phase: Any


class _Pod(TypedDict, total=False):
    kind: Any
    metadata: _PodMeta | None
    spec: _PodSpec | None
    status: _PodStatus | None


class _NodeList(TypedDict, total=False):
    kind: Any
    metadata: _ListMeta | None
    items: list[_Node]


class _PodList(TypedDict, total=False):
    kind: Any
    metadata: _ListMeta | None
    items: list[_Pod]


class _WholeList(TypedDict, total=False):
    kind: Any
    metadata: _ListMeta | None
    items: list[Any]


_DECODERS: dict[Shape, msgspec.json.Decoder[Any]] = {
    "node": msgspec.json.Decoder(_NodeList),
    "pod": msgspec.json.Decoder(_PodList),
    "whole": msgspec.json.Decoder(_WholeList),
}


class NotAList(ValueError):
    """The bytes are not a Kubernetes list response."""


@dataclass(frozen=True)
class Page:
    items: list[ApiObject]  # each with its kind
    continue_token: str | None  # metadata.continue: None on the last page


def decode_page(data: bytes, shape: Shape = "whole") -> Page:
    """One page of a list response: ``shape`` "node" or "pod" keeps only the fields status
    reads of each item, "whole" keeps every field. Raises :class:`NotAList`."""
    try:
        body = _DECODERS[shape].decode(data)
    except msgspec.DecodeError as exc:
        raise NotAList(f"the response is not a Kubernetes list ({exc})") from None
    items = body.get("items")
    if not isinstance(items, list):
        raise NotAList("the response is not a Kubernetes list")
    kind = str(body.get("kind") or "")
    item_kind = kind[:-4] if kind.endswith("List") else kind
    kept: list[ApiObject] = []
    for item in items:
        if isinstance(item, dict):
            item.setdefault("kind", item_kind)  # an item's own kind (custom resources) wins
            kept.append(item)
    token = (body.get("metadata") or {}).get("continue")
    return Page(kept, str(token) if token else None)
