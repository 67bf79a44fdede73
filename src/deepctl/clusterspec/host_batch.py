"""A batch of new hosts (``deepctl add-node SPEC --hosts FILE``), checked like the spec's own.

FILE is a YAML list of entries in exactly ``spec.hosts``' format. They are validated as if
appended to ``spec.hosts`` (the same pydantic host model, the same rules: names and addresses
unique against the spec and within the batch, roles...), and every problem of an entry is
cited at FILE:LINE, with the entry's index as its field path (``[2].address``); a batch adds
workers only. Every problem at once (:class:`SpecError`, exit 2).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

from deepctl.clusterspec.loader import LoadedSpec, read_spec_text, validate_data
from deepctl.clusterspec.yamlpos import Positions, YamlPositionError, parse_with_positions
from deepctl.errors import SpecError, SpecProblem
from deepctl.shellwords import deepctl_command

BATCH_ROLES = ("worker",)  # control plane and etcd join one at a time (cluster.yml)
_HOST = re.compile(r"spec\.hosts\[(\d+)\]")


def _file_problem(name: str, message: str, line: int | None = 1,
                  column: int | None = 1) -> SpecError:
    return SpecError(f"{name}: not a list of host entries",
                     [SpecProblem("", message, file=name, line=line, column=column)],
                     hint="give a YAML list of host entries, each as in spec.hosts")


def _shifted(positions: Positions, offset: int) -> Positions:
    """The batch's positions as those of ``spec.hosts[offset + i]``."""
    def moved(path: tuple[str | int, ...]) -> tuple[str | int, ...] | None:
        return ("spec", "hosts", path[0] + offset, *path[1:]) if path and isinstance(
            path[0], int) else None

    return Positions({k: m for p, m in positions.values.items() if (k := moved(p))},
                     {k: m for p, m in positions.keys.items() if (k := moved(p))})


def cite_in_batch(problem: SpecProblem, offset: int, name: str) -> SpecProblem:
    """A problem of ``spec.hosts[offset + i]`` as one of the batch file's entry ``[i]``, and
    any mention of another batch entry in its message likewise (pure)."""

    def mention(match: re.Match[str]) -> str:
        index = int(match.group(1))
        return f"{name}[{index - offset}]" if index >= offset else match.group(0)

    message = _HOST.sub(mention, problem.message)
    match = _HOST.match(problem.path)
    if match is None or int(match.group(1)) < offset:
        return SpecProblem(problem.path, message, problem.severity, problem.file,
                           problem.line, problem.column)
    path = f"[{int(match.group(1)) - offset}]{problem.path[match.end():]}"
    return SpecProblem(path, message, problem.severity, name, problem.line, problem.column)


def _role_problems(entries: list[Any], positions: Positions, name: str,
                   spec: Path) -> list[SpecProblem]:
    out = []
    for i, entry in enumerate(entries):
        roles = entry.get("roles") if isinstance(entry, dict) else None
        if not isinstance(roles, list):
            continue
        others = [str(r) for r in roles if r not in BATCH_ROLES]
        if others and all(r in ("control-plane", "etcd") for r in others):
            line, column = positions.find((i, "roles")) or (None, None)
            alone = deepctl_command("add-node", spec, "--name", str(entry.get("name", "N")),
                                    "--address", str(entry.get("address", "A")),
                                    *[w for r in roles for w in ("--role", str(r))])
            out.append(SpecProblem(
                f"[{i}].roles", f"a batch adds workers only, not {', '.join(others)}: take "
                f"the entry out of {name} and add it on its own (`{alone}`: Kubespray joins "
                "it with cluster.yml on every host)", file=name, line=line, column=column))
    return out


def load_host_batch(path: Path, spec: LoadedSpec) -> list[dict[str, Any]]:
    """The entries of the batch file ``path``, valid as new hosts of ``spec``; else
    :class:`SpecError` with every problem (the batch's at FILE:LINE)."""
    name = str(path)
    if not path.is_file():
        raise SpecError(f"{name}: no such file", hint="give --hosts the YAML file that lists "
                        "the new hosts, each entry as in spec.hosts")
    try:
        text = read_spec_text(path)
    except SpecError as error:  # said of "the spec file": it is the batch file here
        error.message = error.message.replace("the spec file", name)
        raise
    try:
        entries, positions = parse_with_positions(text)
    except YamlPositionError as exc:
        raise SpecError(f"{name} is not valid YAML",
                        [SpecProblem("", exc.message, file=name, line=exc.line,
                                     column=exc.column)]) from None
    if not isinstance(entries, list) or not entries:
        raise _file_problem(name, "expected a non-empty YAML list of host entries (the "
                            "format of spec.hosts)")
    data, spec_positions = parse_with_positions(spec.text)
    combined = copy.deepcopy(data)
    hosts = combined["spec"]["hosts"]
    offset = len(hosts)
    hosts.extend(copy.deepcopy(entries))
    shifted = _shifted(positions, offset)
    where = Positions({**spec_positions.values, **shifted.values},
                      {**spec_positions.keys, **shifted.keys})
    _, problems = validate_data(combined, where, str(spec.path))
    cited = [cite_in_batch(p, offset, name) for p in problems]
    cited += _role_problems(entries, positions, name, spec.path)
    errors = [p for p in cited if p.severity == "error"]
    if errors:
        errors.sort(key=lambda p: (p.file != name, p.line or 0, p.column or 0))
        count = len(errors)
        raise SpecError(f"{name}: {count} problem{'s' if count != 1 else ''} found in the "
                        "new hosts", errors,
                        hint=f"fix them and run the same add-node again; {spec.path} is "
                        "unchanged")
    return [dict(e) for e in entries]
