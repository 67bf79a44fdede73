"""The spec reference (``docs/spec.md``), generated from the pydantic models.

Pure: :func:`spec_reference` walks :class:`~deepctl.clusterspec.models.Cluster` and its nested models
and returns Markdown, one section per model with a table of its YAML keys, their types,
defaults and descriptions. ``scripts/gen_spec_docs.py`` writes it to ``docs/spec.md``; a test
fails when that file is out of date.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from enum import Enum
from ipaddress import IPv4Address, IPv4Network
from pathlib import PurePath
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from deepctl.clusterspec.models import Cluster

SCALAR_NAMES: dict[Any, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    IPv4Network: "IPv4 network",
    IPv4Address: "IPv4 address",
    Any: "any",
}


@dataclass(frozen=True)
class ModelSection:
    """One model of the spec and the YAML paths where it appears."""

    model: type[BaseModel]
    paths: tuple[str, ...]


def yaml_key(name: str, info: FieldInfo) -> str:
    """The key a field has in YAML (its alias)."""
    return info.alias or name


def model_anchor(model: type[BaseModel]) -> str:
    """The Markdown heading anchor of a model's section."""
    return model.__name__.lower()


def nested_models(annotation: Any) -> list[type[BaseModel]]:
    """The models inside an annotation (``X``, ``X | None``, ``list[X]``, ``dict[str, X]``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        found += [m for m in nested_models(arg) if m not in found]
    return found


def _child_path(parent: str, key: str, annotation: Any) -> str:
    path = f"{parent}.{key}" if parent else key
    origin = typing.get_origin(annotation)
    if origin is list:
        return path + "[]"
    if origin is dict:
        return path + ".*"
    if _is_optional(annotation):
        inner = next(a for a in typing.get_args(annotation) if a is not type(None))
        return _child_path(parent, key, inner)
    return path


def walk(root: type[BaseModel] = Cluster) -> list[ModelSection]:
    """Every model reachable from ``root``, depth first in field order, with its YAML paths."""
    order: list[type[BaseModel]] = []
    paths: dict[type[BaseModel], list[str]] = {}

    def visit(model: type[BaseModel], path: str) -> None:
        if model in paths:
            paths[model].append(path)
            return
        order.append(model)
        paths[model] = [path]
        for name, info in model.model_fields.items():
            child = _child_path(path, yaml_key(name, info), info.annotation)
            for nested in nested_models(info.annotation):
                visit(nested, child)

    visit(root, "")
    return [ModelSection(m, tuple(paths[m])) for m in order]


def _is_optional(annotation: Any) -> bool:
    return _is_union(annotation) and type(None) in typing.get_args(annotation)


def _is_union(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (typing.Union, types.UnionType)


def type_text(annotation: Any) -> str:
    """A human-readable name of a type annotation."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"[{annotation.__name__}](#{model_anchor(annotation)})"
    if isinstance(annotation, type) and issubclass(annotation, PurePath):
        return "path"
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return "one of: " + ", ".join(f"`{m.value}`" for m in annotation)
    if annotation in SCALAR_NAMES:
        return SCALAR_NAMES[annotation]
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Literal:
        if len(args) == 1:
            return f"`{args[0]}` (fixed)"
        return "one of: " + ", ".join(f"`{a}`" for a in args)
    if origin is list:
        if typing.get_origin(args[0]) is typing.Literal:
            return "list of values from: " + ", ".join(f"`{a}`" for a in typing.get_args(args[0]))
        return f"list of {type_text(args[0])}"
    if origin is dict:
        return f"map of {type_text(args[0])} to {type_text(args[1])}"
    if _is_union(annotation):
        parts = [type_text(a) for a in args if a is not type(None)]
        text = " or ".join(parts)
        return f"{text} or null" if type(None) in args else text
    return getattr(annotation, "__name__", str(annotation))


def constraints_text(info: FieldInfo) -> str:
    """Constraints (bounds, lengths, patterns) of a field, as words."""
    found: dict[str, Any] = {}
    for item in info.metadata:
        for attr in ("ge", "gt", "le", "lt", "min_length", "max_length", "pattern"):
            value = getattr(item, attr, None)
            if value is not None:
                found[attr] = value
    words: list[str] = []
    if "ge" in found and "le" in found:
        words.append(f"{found['ge']}-{found['le']}")
    else:
        words += [f"{op} {found[k]}" for k, op in
                  (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")) if k in found]
    if "min_length" in found:
        words.append(f"at least {_entries(found['min_length'])}")
    if "max_length" in found:
        words.append(f"at most {_entries(found['max_length'])}")
    if "pattern" in found:
        words.append(f"matching `{found['pattern']}`")
    return ", ".join(words)


def _entries(count: int) -> str:
    return f"{count} entry" if count == 1 else f"{count} entries"


def field_type_text(info: FieldInfo) -> str:
    """The type of a field with its constraints, e.g. ``integer 1-65535 or null``."""
    annotation, nullable = info.annotation, _is_optional(info.annotation)
    if nullable:
        rest = [a for a in typing.get_args(annotation) if a is not type(None)]
        annotation = rest[0] if len(rest) == 1 else annotation
        nullable = len(rest) == 1
    text = type_text(annotation)
    constraints = constraints_text(info)
    if constraints:
        container = typing.get_origin(annotation) in (list, dict)
        text = f"{text} ({constraints})" if container else f"{text} {constraints}"
    return f"{text} or null" if nullable else text


def _plain(value: Any) -> Any:
    """A default value as plain YAML data."""
    if isinstance(value, BaseModel):
        return {}  # every key of a nested model has its own default, listed in its section
    if isinstance(value, (PurePath, IPv4Network, IPv4Address)):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def default_text(info: FieldInfo) -> str:
    """The default of a field as YAML (flow style), or '' when the field is required."""
    if info.is_required():
        return ""
    value = info.get_default(call_default_factory=True)
    text = yaml.safe_dump(_plain(value), default_flow_style=True, width=10_000)
    text = text.strip().removesuffix("...").strip()
    return f"`{text}`"


def _cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split())


def model_doc(model: type[BaseModel]) -> str:
    """A model's own docstring (not an inherited one), on one line."""
    doc = model.__dict__.get("__doc__") or ""
    return " ".join(doc.split())


def section(entry: ModelSection) -> str:
    """One model's section: heading, where it appears, its docstring and a table of keys."""
    model = entry.model
    lines = [f"## {model.__name__}", ""]
    where = ", ".join(f"`{p}`" for p in entry.paths if p)
    lines.append(f"At {where}." if where else "The top level of the file.")
    if model_doc(model):
        lines += ["", model_doc(model)]
    lines += ["", "| Key | Type | Default | Required | Description |",
              "|-----|------|---------|----------|-------------|"]
    for name, info in model.model_fields.items():
        cells = (
            f"`{yaml_key(name, info)}`",
            field_type_text(info),
            default_text(info),
            "yes" if info.is_required() else "no",
            info.description or "",
        )
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def spec_reference(intro: str = "", root: type[BaseModel] = Cluster) -> str:
    """The whole reference: ``intro``, a table of contents, then one section per model."""
    entries = walk(root)
    toc = [f"- [{e.model.__name__}](#{model_anchor(e.model)})"
           + (f": `{e.paths[0]}`" if e.paths[0] else "") for e in entries]
    parts = [intro.rstrip() + "\n" if intro else "", "\n".join(toc) + "\n"]
    parts += [section(e) for e in entries]
    return "\n".join(p for p in parts if p)
