"""Import: the commented spec text (ruamel.yaml), and the summary of what went where (pure)."""

from __future__ import annotations

import io
import re
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from deepctl.errors import SpecProblem
from deepctl.importer.convert import ImportResult

NAME_CHARS = re.compile(r"[^a-z0-9-]+")


def cluster_name(source_name: str) -> str:
    """A lower-case RFC 1123 label from an inventory's directory name ("imported" if none)."""
    name = NAME_CHARS.sub("-", source_name.lower()).strip("-")[:63].strip("-")
    return name or "imported"


def _commented(value: Any) -> Any:
    if isinstance(value, dict):
        out = CommentedMap()
        for key, item in value.items():
            out[key] = _commented(item)
        return out
    if isinstance(value, list):
        return CommentedSeq([_commented(item) for item in value])
    return value


def _comment_at(root: CommentedMap, path: str, text: str) -> None:
    node: Any = root
    *parents, last = path.split(".")
    for part in parents:
        node = node.get(part) if isinstance(node, CommentedMap) else None
    if isinstance(node, CommentedMap) and last in node:
        node.yaml_add_eol_comment(text, last)


def header(result: ImportResult, source: str) -> str:
    lines = [
        f"Imported by `deepctl import` from the Kubespray inventory {source}.",
        "Typed fields hold what deepctl has fields for (each says which Kubespray variable it",
        "came from); kubesprayVars holds the rest as given, Ansible templates included.",
        "deepctl's platform addons are off: enable the ones you want under spec.addons.",
    ]
    for name, theirs, ours in result.owned:
        lines.append(f"deepctl sets {name}: {_yaml(ours)} (the inventory had {_yaml(theirs)}).")
    lines += [f"Not imported: {reason}." for reason in result.dropped]
    return "\n".join(lines)


def _yaml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def spec_text(result: ImportResult, source: str) -> str:
    """The spec as commented YAML."""
    doc = _commented(result.spec)
    doc.yaml_set_start_comment(header(result, source))
    spec = doc["spec"]
    by_path: dict[str, list[str]] = {}
    for var, path in result.typed.items():
        by_path.setdefault(path, []).append(var)
    for path, names in by_path.items():
        _comment_at(spec, path.removeprefix("spec."), f"Kubespray {', '.join(names)}")
    raw = spec.get("kubesprayVars")
    if isinstance(raw, CommentedMap):
        for var in result.templates:
            raw.yaml_add_eol_comment("Ansible template, kept as given", var)
    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 100
    out = io.StringIO()
    yaml.dump(doc, out)
    return out.getvalue()


def summary(result: ImportResult) -> dict[str, Any]:
    """What went where, for people and for --json."""
    return {
        "hosts": len(result.spec["spec"]["hosts"]),
        "typed": dict(result.typed),
        "kubesprayVars": list(result.raw),
        "templates": list(result.templates),
        "perHost": {h: list(v) for h, v in result.per_host.items()},
        "owned": [{"name": n, "inventory": a, "deepctl": b} for n, a, b in result.owned],
        "dropped": list(result.dropped),
    }


def blame(problem: SpecProblem, result: ImportResult) -> str:
    """A spec problem of the imported spec, named by the Kubespray variable behind it."""
    for var, path in result.typed.items():
        if problem.path == path or problem.path.startswith(path + "."):
            return f"{var}: {problem.message}"
    return f"{problem.path}: {problem.message}" if problem.path else problem.message
