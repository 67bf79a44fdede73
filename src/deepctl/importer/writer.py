"""Import: the commented spec text (libyaml, YAML 1.1 quoting), and what went where (pure)."""

from __future__ import annotations

import re
from typing import Any

import yaml

from deepctl.errors import SpecProblem
from deepctl.importer.convert import ImportResult
from deepctl.importer.listing import UnsafeText

NAME_CHARS = re.compile(r"[^a-z0-9-]+")


def cluster_name(source_name: str) -> str:
    """A lower-case RFC 1123 label from an inventory's directory name ("imported" if none)."""
    name = NAME_CHARS.sub("-", source_name.lower()).strip("-")[:63].strip("-")
    return name or "imported"


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
    lines += [f"{default[0].upper()}{default[1:]}." for default in result.defaults]
    return "\n".join(lines)


def _yaml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_BaseDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_BaseDumper):  # type: ignore[valid-type,misc]
    """PyYAML's (libyaml's) safe dumper: it quotes every string a YAML 1.1 reader (PyYAML,
    deepctl's spec loader) would take for another type ("yes", "off", "1:30", "0755", ...)."""


def _represent_text(dumper: yaml.SafeDumper, value: UnsafeText) -> yaml.Node:
    return dumper.represent_str(str(value))  # libyaml's emitter takes exact str only


_Dumper.add_representer(UnsafeText, _represent_text)
HOSTS_MARK = "__deepctl_import_hosts__"
NO_WRAP = 1_000_000_000  # never fold a long scalar: one value, one line (comments go after it)


def _dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, default_flow_style=False, sort_keys=False,
                     allow_unicode=True, width=NO_WRAP)


def _key_lines(text: str, paths: dict[str, str]) -> dict[int, str]:
    """0-based line of each dotted mapping path's key in ``text`` -> its comment."""
    root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    out: dict[int, str] = {}
    for path, comment in paths.items():
        node: Any = root
        line = None
        for part in path.split("."):
            if not isinstance(node, yaml.MappingNode):
                line = None
                break
            entry = next(((k, v) for k, v in node.value if k.value == part), None)
            if entry is None:
                line = None
                break
            line, node = entry[0].start_mark.line, entry[1]
        if line is not None:
            out[line] = f"{out[line]}; {comment}" if line in out else comment
    return out


def spec_text(result: ImportResult, source: str) -> str:
    """The spec as commented YAML. Linear in the number of hosts: the hosts are one libyaml
    dump, spliced in; only the rest (its size independent of the hosts) is read back to place
    the comments."""
    doc = dict(result.spec)
    spec = dict(doc["spec"])
    hosts = spec.get("hosts", [])
    spec["hosts"] = HOSTS_MARK
    doc["spec"] = spec
    comments: dict[str, str] = {}
    by_path: dict[str, list[str]] = {}
    for var, path in result.typed.items():
        by_path.setdefault(path, []).append(var)
    for path, names in by_path.items():
        comments[path] = f"Kubespray {', '.join(names)}"
    for var in result.templates:
        comments[f"spec.kubesprayVars.{var}"] = "Ansible template, kept as given"
    for key in result.default_fields:
        comments[f"spec.ssh.{key}"] = "deepctl's default: the inventory names none"
    body = _dump(doc)
    lines = body.splitlines()
    for number, comment in _key_lines(body, comments).items():
        lines[number] += f"  # {comment}"
    mark = f"  hosts: {HOSTS_MARK}"
    at = lines.index(mark)
    hosts_text = "".join(f"  {line}\n" for line in _dump(hosts).splitlines()) if hosts else ""
    head = "".join(f"# {line}\n" if line else "#\n" for line in header(result, source).splitlines())
    before = "".join(f"{line}\n" for line in lines[:at])
    after = "".join(f"{line}\n" for line in lines[at + 1:])
    return head + before + ("  hosts:\n" + hosts_text if hosts else "  hosts: []\n") + after


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
        "defaults": list(result.defaults),
    }


def blame(problem: SpecProblem, result: ImportResult) -> str:
    """A spec problem of the imported spec, named by the Kubespray variable behind it."""
    for var, path in result.typed.items():
        if problem.path == path or problem.path.startswith(path + "."):
            return f"{var}: {problem.message}"
    return f"{problem.path}: {problem.message}" if problem.path else problem.message
