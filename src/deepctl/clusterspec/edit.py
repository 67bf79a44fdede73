"""Edit a spec file's host list in place, keeping every other byte (comments, layout) as is.

ruamel.yaml's round-trip parser finds where ``spec.hosts`` and its items are; the edit
itself is done on the text (a new entry inserted after the last one, or an entry's lines
removed), so comments and formatting outside the touched entry stay byte for byte.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from deepctl.errors import SpecError
from deepctl.fsutil import atomic_write


def _hosts(text: str) -> tuple[CommentedMap, CommentedSeq]:
    try:
        doc = YAML(typ="rt").load(text)
    except YAMLError as exc:
        raise SpecError(f"cannot edit the spec: {exc}") from None
    spec = doc.get("spec") if isinstance(doc, CommentedMap) else None
    hosts = spec.get("hosts") if isinstance(spec, CommentedMap) else None
    if not isinstance(spec, CommentedMap) or not isinstance(hosts, CommentedSeq) or not hosts:
        raise SpecError("cannot edit the spec: spec.hosts is not a list of hosts")
    if hosts.fa.flow_style():
        raise SpecError("cannot edit the spec: spec.hosts is written in flow style ([...])",
                        hint="write spec.hosts as a block list (one '- name:' per host)")
    return spec, hosts


def _block_end(lines: list[str], spec: CommentedMap, start: int) -> int:
    """Index of the first line after the hosts list (before trailing comments/blank lines)."""
    keys = list(spec.keys())
    after = keys.index("hosts") + 1
    end = spec.lc.key(keys[after])[0] if after < len(keys) else len(lines)
    while end > start and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
        end -= 1
    return end


def _dash_column(line: str, item_column: int) -> int:
    return line.rfind("-", 0, item_column)


def add_host_text(text: str, entry: dict[str, Any]) -> str:
    """``text`` with ``entry`` appended to ``spec.hosts``; nothing else changes."""
    spec, hosts = _hosts(text)
    lines = text.splitlines(keepends=True)
    last_line, last_col = hosts.lc.item(len(hosts) - 1)
    dash = _dash_column(lines[last_line], last_col)
    end = _block_end(lines, spec, last_line)
    rendered = yaml.safe_dump([entry], sort_keys=False, default_flow_style=False)
    block = "".join(" " * dash + line + "\n" for line in rendered.splitlines())
    if end > 0 and not lines[end - 1].endswith("\n"):
        lines[end - 1] += "\n"
    return "".join(lines[:end]) + block + "".join(lines[end:])


def remove_host_text(text: str, name: str) -> str:
    """``text`` without the ``spec.hosts`` entry named ``name``; nothing else changes."""
    spec, hosts = _hosts(text)
    names = [h.get("name") if isinstance(h, CommentedMap) else None for h in hosts]
    if name not in names:
        raise SpecError(f"no host named {name!r} in spec.hosts")
    index = names.index(name)
    lines = text.splitlines(keepends=True)
    first = hosts.lc.item(index)[0]
    if index + 1 < len(hosts):
        end = hosts.lc.item(index + 1)[0]
        while end > first and lines[end - 1].lstrip().startswith("#"):
            end -= 1  # a comment just above the next entry belongs to it
    else:
        end = _block_end(lines, spec, first)
    return "".join(lines[:first]) + "".join(lines[end:])


def write_spec(path: Path, new_text: str) -> Path:
    """Keep ``<spec>.bak`` beside the spec, then replace the spec atomically."""
    backup = path.with_name(path.name + ".bak")
    shutil.copy2(path, backup)
    mode = path.stat().st_mode & 0o777
    atomic_write(path, new_text, mode)
    return backup


def _scalar_end(line: str, col: int, flow: bool) -> int:
    """Index just past the YAML scalar that starts at ``line[col]`` (quoted or plain)."""
    body = line.rstrip("\r\n")
    quote = body[col:col + 1]
    if quote in ("'", '"'):
        i = col + 1
        while i < len(body):
            escaped = body[i] == "\\" if quote == '"' else body[i:i + 2] == "''"
            if escaped:
                i += 2
            elif body[i] == quote:
                return i + 1
            else:
                i += 1
        return len(body)
    end = col
    while end < len(body) and not (flow and body[end] in ",}]") and not (
            body[end] == "#" and end > col and body[end - 1] in " \t"):
        end += 1
    return len(body[:end].rstrip())


def set_kube_version_text(text: str, version: str) -> str:
    """``text`` with ``spec.kubernetes.version`` set to ``version`` (added if absent).

    Block and flow style (``kubernetes: {version: 1.34.7, networkPlugin: calico}``) alike:
    only the version's characters change, or one ``version`` entry is added.
    """
    doc = YAML(typ="rt").load(text)
    spec = doc["spec"]
    lines = text.splitlines(keepends=True)
    quoted = f'"{version}"'
    k8s = spec.get("kubernetes")
    if isinstance(k8s, CommentedMap) and "version" in k8s:
        line, col = k8s.lc.value("version")
        end = _scalar_end(lines[line], col, k8s.fa.flow_style())
        lines[line] = lines[line][:col] + quoted + lines[line][end:]
        return "".join(lines)
    if isinstance(k8s, CommentedMap) and k8s.fa.flow_style():
        line, col = spec.lc.value("kubernetes")  # the "{"
        brace = lines[line].index("{", col)
        entry = f"version: {quoted}" + (", " if k8s else "")
        lines[line] = lines[line][:brace + 1] + entry + lines[line][brace + 1:]
        return "".join(lines)
    if isinstance(k8s, CommentedMap) and k8s:
        first_key = next(iter(k8s))
        line, col = k8s.lc.key(first_key)
        lines.insert(line, " " * col + f"version: {quoted}\n")
        return "".join(lines)
    if "kubernetes" in spec:  # "kubernetes:" with no value (or null)
        line, col = spec.lc.key("kubernetes")
        after = lines[line].index(":", col) + 1
        rest = lines[line][after:]
        value = rest.split(" #", 1)[0].strip()
        if value:
            start = after + rest.index(value)
            lines[line] = lines[line][:start] + f"{{version: {quoted}}}" + lines[line][
                start + len(value):]
        else:
            if not lines[line].endswith("\n"):
                lines[line] += "\n"
            lines.insert(line + 1, " " * (col + 2) + f"version: {quoted}\n")
        return "".join(lines)
    line, col = spec.lc.key(next(iter(spec)))
    lines.insert(line, " " * col + f'kubernetes:\n{" " * (col + 2)}version: {quoted}\n')
    return "".join(lines)
