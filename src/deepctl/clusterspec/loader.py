"""Read a spec file and turn it into a validated :class:`Cluster`, or every problem at once.

Problems come back as :class:`deepctl.errors.SpecProblem` with file, line, column and field
path, whether they are YAML syntax errors, type errors from the models or semantic rules.
"""

from __future__ import annotations

import copy
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from deepctl.clusterspec import rules
from deepctl.clusterspec.models import Cluster
from deepctl.clusterspec.paths import anchor_key_paths
from deepctl.clusterspec.syntax import capped, shown
from deepctl.clusterspec.yamlpos import Positions, YamlPositionError, parse_with_positions
from deepctl.errors import SpecError, SpecProblem, UsageError
from deepctl.shellwords import deepctl_command
from deepctl.user_input import MAX_SPEC_BYTES, InputError, display_name, is_stdin, read_input

PathKey = tuple[str | int, ...]
MAX_MESSAGE_CHARS = 2000  # a safety net: each echo of a value is capped where it is made


@dataclass
class LoadedSpec:
    """A validated spec and where it came from."""

    cluster: Cluster
    path: Path
    data: dict[str, Any]
    warnings: list[SpecProblem] = field(default_factory=list)
    text: str = ""  # what was read (a spec on stdin cannot be read twice)

    @property
    def directory(self) -> Path:
        return self.path.parent


def format_path(path: PathKey) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            part = capped(part, 320)  # a label key is at most 317 characters; longer is junk
            out += f".{part}" if out else part
    return out


def read_spec_text(path: Path | str) -> str:
    """Read a spec (a file, a device, a pipe, ``-`` for stdin) as UTF-8 text; refuse huge,
    binary or non-UTF-8 input with a position. Reads at most MAX_SPEC_BYTES + 1 bytes."""
    name = display_name(path)
    try:
        raw = read_input(path, MAX_SPEC_BYTES, "spec")
    except InputError as exc:
        if exc.reason == "too-large":
            raise SpecError(exc.message, [SpecProblem("", "file too large", file=name, line=1)]
                            ) from None
        hint = (f"create it with `{deepctl_command('init', '-o', path)}`"
                if exc.reason == "missing" else None)
        raise SpecError(exc.message, hint=hint) from None
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        problem = SpecProblem(
            "", f"not UTF-8 text (byte 0x{raw[exc.start]:02x})", file=name, line=line,
            column=column,
        )
        raise SpecError("the spec file is not valid UTF-8", [problem]) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise SpecError(
            "the spec file holds binary data",
            [SpecProblem("", "NUL byte: this is not a text file", file=name, line=line)],
        )
    return text


def load_spec(path: Path | str, *, strict: bool = False, stdin_ok: bool = False) -> LoadedSpec:
    """Load, parse and validate a spec file (``-``: standard input, when ``stdin_ok``).

    Raises :class:`SpecError` listing every problem. Warnings are returned on the result,
    or raised as errors when ``strict``.
    """
    if is_stdin(path):
        if not stdin_ok:
            raise UsageError("`-` (a spec on standard input) works with `deepctl validate` only; "
                             "this command records and edits the spec, so it needs a file",
                             hint="save the spec to a file and give its path")
        return load_spec_text(read_spec_text(path), Path(display_name(path)), strict=strict)
    spec_path = Path(path).expanduser()
    text = read_spec_text(spec_path)
    return load_spec_text(text, spec_path, strict=strict)


def load_spec_text(text: str, spec_path: Path, *, strict: bool = False) -> LoadedSpec:
    name = str(spec_path)
    try:
        data, positions = parse_with_positions(text)
    except YamlPositionError as exc:
        message = exc.message
        lines = text.splitlines()
        if exc.line is not None and exc.line <= len(lines) and "\t" in lines[exc.line - 1]:
            message = f"{message}; tab characters cannot indent YAML, use spaces"
        problem = SpecProblem("", message, file=name, line=exc.line, column=exc.column)
        raise SpecError("the spec file is not valid YAML", [problem]) from None
    if not isinstance(data, dict):
        problem = SpecProblem("", "the spec must be a YAML mapping (apiVersion, kind, "
                              "metadata, spec)", file=name, line=1, column=1)
        raise SpecError("the spec file is not a cluster spec", [problem])
    cluster, problems = validate_data(data, positions, name)
    if strict:
        problems = [_as_error(p) for p in problems]
    errors = [p for p in problems if p.severity == "error"]
    if errors or cluster is None:
        count = len(errors)
        raise SpecError(
            f"{name}: {count} problem{'s' if count != 1 else ''} found", problems,
            hint=f"fix the fields above, then run `{deepctl_command('validate', name)}` again",
        )
    cluster = anchor_key_paths(cluster, spec_path.resolve().parent)
    return LoadedSpec(cluster, spec_path.resolve(), data, [p for p in problems], text)


def _as_error(problem: SpecProblem) -> SpecProblem:
    if problem.severity == "error":
        return problem
    return SpecProblem(problem.path, f"{problem.message} (warning, error under --strict)",
                       "error", problem.file, problem.line, problem.column)


def validate_data(
    data: dict[str, Any], positions: Positions, filename: str
) -> tuple[Cluster | None, list[SpecProblem]]:
    """Validate parsed data; return the cluster (if types are valid) and all problems."""
    try:
        cluster = Cluster.model_validate(data, by_alias=True, by_name=False,
                                         context={"spec_file": filename})
    except ValidationError as exc:
        errors = exc.errors()
        problems = [_from_pydantic(err, data, positions, filename) for err in errors]
        # Report semantic problems too where the type errors are in optional fields: drop
        # the bad fields, and if the rest validates, run the rules on it.
        partial = _without(data, [tuple(err["loc"]) for err in errors], filename)
        if partial is not None:
            problems += _rule_problems(partial, data, positions, filename)
        problems.sort(key=lambda p: (p.line or 0, p.column or 0))
        return None, problems
    problems = _rule_problems(cluster, data, positions, filename)
    return cluster, problems


def _without(data: dict[str, Any], locs: list[PathKey], filename: str) -> Cluster | None:
    pruned = copy.deepcopy(data)
    for loc in locs:
        parent: Any = pruned
        for part in loc[:-1]:
            try:
                parent = parent[part]
            except (KeyError, IndexError, TypeError):
                return None
        if not isinstance(parent, dict) or loc[-1] not in parent:
            return None
        del parent[loc[-1]]
    try:
        return Cluster.model_validate(pruned, by_alias=True, by_name=False,
                                      context={"spec_file": filename})
    except ValidationError:
        return None


def _rule_problems(
    cluster: Cluster, data: dict[str, Any], positions: Positions, filename: str
) -> list[SpecProblem]:
    problems = []
    for finding in rules.check(cluster):
        mark = positions.find(finding.path, key=_is_key_finding(finding.path, data))
        problems.append(
            SpecProblem(format_path(finding.path), capped(finding.message, MAX_MESSAGE_CHARS),
                        finding.severity, filename,
                        *(mark or (None, None)))
        )
    problems.sort(key=lambda p: (p.line or 0, p.column or 0))
    return problems


def _is_key_finding(path: PathKey, data: dict[str, Any]) -> bool:
    """Findings on a whole mapping entry (e.g. a kubesprayVars name) point at the key."""
    return len(path) >= 2 and path[-2] in ("kubesprayVars", "labels")


def _from_pydantic(
    err: Any, data: dict[str, Any], positions: Positions, filename: str
) -> SpecProblem:
    loc: PathKey = tuple(err["loc"])
    kind = err["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        allowed = _allowed_keys(loc[:-1])
        hint = rules.did_you_mean(key, allowed) if allowed else ""
        listing = f" (allowed: {', '.join(sorted(allowed))})" if allowed and not hint else ""
        message = f"unknown key {shown(key)}{hint}{listing}"
        mark = positions.find(loc, key=True)
    elif kind == "missing":
        message = f"missing required key {shown(str(loc[-1]))}"
        mark = positions.find(loc[:-1], key=True)
    else:
        message = err["msg"]
        if "input" in err and not isinstance(err["input"], (dict, list)):
            message = f"{message} (got {shown(err['input'])})"
        mark = positions.find(loc)
    return SpecProblem(format_path(loc), capped(message, MAX_MESSAGE_CHARS), "error", filename,
                       *(mark or (None, None)))


def _allowed_keys(loc: PathKey) -> set[str]:
    """The keys the model accepts at ``loc`` (aliases), or an empty set if not a model."""
    model: Any = Cluster
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return set()
        field_info = next(
            (f for n, f in model.model_fields.items() if (f.alias or n) == part), None
        )
        if field_info is None:
            return set()
        model = _unwrap(field_info.annotation)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return {f.alias or n for n, f in model.model_fields.items()}
    return set()


def _unwrap(annotation: Any) -> Any:
    """Find the model class inside Optional[...] / list[...]."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _unwrap(arg)
        if found is not None:
            return found
    return None
