"""Parse YAML into plain Python data while recording where every key and value is.

Built on PyYAML's (C) event stream, so it is fast on large specs and lets deepctl refuse
hostile input before it costs anything: duplicate keys, alias bombs ("billion laughs"),
deep nesting, unknown tags and multiple documents are all errors with a position.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

PathKey = tuple[str | int, ...]
Mark = tuple[int, int]  # 1-based line, 1-based column

MAX_DEPTH = 64
MAX_NODES = 90_000  # after alias expansion; ~6,000 hosts of ~14 nodes each; refusal < 2 s CPU

_MERGE_TAG = "tag:yaml.org,2002:merge"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlPositionError(Exception):
    """A YAML problem at a position (1-based line and column)."""

    def __init__(self, message: str, line: int | None, column: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


@dataclass
class Positions:
    """Where each value (and each mapping key) of a parsed document starts."""

    values: dict[PathKey, Mark] = field(default_factory=dict)
    keys: dict[PathKey, Mark] = field(default_factory=dict)

    def find(self, path: PathKey, *, key: bool = False) -> Mark | None:
        """Position of ``path``, or of its nearest ancestor that has one."""
        if key and path in self.keys:
            return self.keys[path]
        probe = path
        while True:
            if probe in self.values:
                return self.values[probe]
            if not probe:
                return None
            probe = probe[:-1]
            if probe in self.keys:
                return self.keys[probe]


def _mark(event: Any) -> Mark:
    return (event.start_mark.line + 1, event.start_mark.column + 1)


@dataclass
class _Frame:
    value: dict[Any, Any] | list[Any]
    path: PathKey
    anchor: str | None
    size: int = 1
    key: Any = None
    key_mark: Mark | None = None
    has_key: bool = False
    merge_pending: bool = False
    merged: set[Any] = field(default_factory=set)  # keys that came from '<<' (overridable)


class _Builder:
    def __init__(self) -> None:
        self.positions = Positions()
        self.stack: list[_Frame] = []
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.nodes = 0
        self.root: Any = None
        self.done = False
        self.constructor = SafeConstructor()
        self.resolver = Resolver()

    # -- helpers ---------------------------------------------------------------------------
    def _count(self, size: int, mark: Mark) -> None:
        self.nodes += size
        if self.nodes > MAX_NODES:
            raise YamlPositionError(
                f"the document expands to more than {MAX_NODES} nodes "
                "(aliases referencing aliases?); refusing to load it",
                *mark,
            )

    def _child_path(self) -> PathKey:
        if not self.stack:
            return ()
        top = self.stack[-1]
        if isinstance(top.value, list):
            return (*top.path, len(top.value))
        return (*top.path, top.key)

    def _add(self, value: Any, mark: Mark, size: int, tag: str | None = None) -> None:
        if not self.stack:
            if self.done:
                raise YamlPositionError("a spec file holds exactly one YAML document", *mark)
            self.root = value
            self.positions.values[()] = mark
            self.done = True
            return
        top = self.stack[-1]
        top.size += size
        if isinstance(top.value, list):
            top.value.append(value)
            return
        if not top.has_key:
            self._set_key(top, value, mark, tag)
            return
        top.has_key = False
        if top.merge_pending:
            top.merge_pending = False
            self._merge(top, value, mark)
            return
        top.value[top.key] = value

    def _set_key(self, top: _Frame, key: Any, mark: Mark, tag: str | None) -> None:
        if tag == _MERGE_TAG:
            top.key, top.has_key, top.merge_pending = "<<", True, True
            return
        if isinstance(key, (dict, list)):
            raise YamlPositionError("a mapping key must be a plain value", *mark)
        assert isinstance(top.value, dict)
        if key in top.value and key in top.merged:
            top.merged.discard(key)  # an explicit key overrides a merged one
        elif key in top.value:
            first = self.positions.keys.get((*top.path, key))
            where = f" (first at line {first[0]})" if first else ""
            raise YamlPositionError(f"duplicate key {key!r}{where}", *mark)
        top.key, top.key_mark, top.has_key = key, mark, True
        self.positions.keys[(*top.path, key)] = mark

    def _merge(self, top: _Frame, value: Any, mark: Mark) -> None:
        sources = value if isinstance(value, list) else [value]
        assert isinstance(top.value, dict)
        for source in sources:
            if not isinstance(source, dict):
                raise YamlPositionError("'<<' merges only mappings", *mark)
            for k, v in source.items():
                if k not in top.value:
                    top.value[k] = v
                    top.merged.add(k)

    # -- events ----------------------------------------------------------------------------
    def feed(self, event: Any) -> None:
        mark = _mark(event)
        if isinstance(event, yaml.ScalarEvent):
            self._scalar(event, mark)
        elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            self._start(event, mark)
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            frame = self.stack.pop()
            if frame.anchor:
                self.anchors[frame.anchor] = (frame.value, frame.size)
            self._add(frame.value, self.positions.values.get(frame.path, mark), frame.size)
        elif isinstance(event, yaml.AliasEvent):
            if event.anchor not in self.anchors:
                raise YamlPositionError(f"unknown alias *{event.anchor}", *mark)
            value, size = self.anchors[event.anchor]
            self._count(size, mark)
            self._record(mark)
            self._add(value, mark, size)

    def _record(self, mark: Mark) -> None:
        top = self.stack[-1] if self.stack else None
        if top is None or isinstance(top.value, list) or top.has_key:
            self.positions.values[self._child_path()] = mark

    def _scalar(self, event: Any, mark: Mark) -> None:
        self._count(1, mark)
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.resolver.resolve(ScalarNode, event.value, event.implicit)  # type: ignore[no-untyped-call]
        if tag == _MERGE_TAG:
            value: Any = event.value
        else:
            node = ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
            try:
                value = self.constructor.construct_object(node, deep=True)
            except ConstructorError as exc:
                raise YamlPositionError(
                    f"unsupported YAML tag {tag!r}" if "could not determine" in str(exc)
                    else str(exc.problem or exc), *mark
                ) from None
        self._record(mark)
        if event.anchor:
            self.anchors[event.anchor] = (value, 1)
        self._add(value, mark, 1, tag)

    def _start(self, event: Any, mark: Mark) -> None:
        self._count(1, mark)
        if event.tag not in (None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"):
            raise YamlPositionError(f"unsupported YAML tag {event.tag!r}", *mark)
        if len(self.stack) >= MAX_DEPTH:
            raise YamlPositionError(f"nesting deeper than {MAX_DEPTH} levels", *mark)
        self._record(mark)
        container: dict[Any, Any] | list[Any] = (
            {} if isinstance(event, yaml.MappingStartEvent) else []
        )
        self.stack.append(_Frame(container, self._child_path(), event.anchor))


def parse_with_positions(text: str) -> tuple[Any, Positions]:
    """Parse one YAML document; raise :class:`YamlPositionError` on any problem."""
    builder = _Builder()
    try:
        for event in yaml.parse(text, Loader=_LOADER):
            builder.feed(event)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or "invalid YAML"
        if exc.context:
            problem = f"{problem} ({exc.context})"
        if mark is None:
            raise YamlPositionError(problem, None, None) from None
        raise YamlPositionError(problem, mark.line + 1, mark.column + 1) from None
    except yaml.reader.ReaderError as exc:
        index = _char_index(text, exc.position)
        line = text.count("\n", 0, index) + 1
        column = index - (text.rfind("\n", 0, index) + 1) + 1
        char = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise YamlPositionError(
            f"character U+{char:04X} is not allowed in YAML ({exc.reason})", line, column
        ) from None
    except yaml.YAMLError as exc:
        raise YamlPositionError(str(exc), None, None) from None
    return builder.root, builder.positions


def _char_index(text: str, position: int) -> int:
    """libyaml reports byte offsets into the UTF-8 text, the pure-Python reader characters."""
    if _LOADER is yaml.SafeLoader:
        return position
    return len(text.encode("utf-8")[:position].decode("utf-8", "ignore"))
