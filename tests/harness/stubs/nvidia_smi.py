"""``nvidia-smi`` stand-in replaying captured-style output from ``HOSTDIR/gpu/``.

Supported: no arguments (the status table), ``-L``/``--list-gpus`` and
``--query-gpu=FIELDS --format=csv[,noheader][,nounits]`` with optional ``-i``/``--id``.
The ``driver-missing`` profile fails for every invocation like the real tool.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .record import not_modelled, record_call

TOOL = "nvidia-smi"
# Aliases accepted by the real tool for the fields the stand-in knows.
FIELD_ALIASES = {"gpu_name": "name", "gpu_uuid": "uuid", "gpu_bus_id": "pci.bus_id"}
FORMAT_OPTIONS = {"csv", "noheader", "nounits"}
INVALID_ARGUMENTS = "Invalid combination of input arguments. Please run 'nvidia-smi -h' for help.\n"


class UsageError(Exception):
    """An invocation the stand-in rejects; ``args[0]`` is printed to stdout."""


@dataclass
class Request:
    mode: str = "table"  # "table" | "list" | "query"
    fields: list[str] = field(default_factory=list)
    format_options: set[str] = field(default_factory=set)
    ids: list[str] = field(default_factory=list)


def parse_args(argv: list[str]) -> Request:
    request = Request()
    has_format = False
    args = list(argv)
    while args:
        arg = args.pop(0)
        name, _, value = arg.partition("=")
        if arg in ("-L", "--list-gpus"):
            request.mode = "list"
        elif name in ("--query-gpu", "--format", "-i", "--id"):
            if not value:
                if not args:
                    raise UsageError(INVALID_ARGUMENTS)
                value = args.pop(0)
            if name == "--query-gpu":
                request.mode = "query"
                request.fields = [f.strip() for f in value.split(",") if f.strip()]
            elif name == "--format":
                has_format = True
                request.format_options = {o.strip() for o in value.split(",")}
            else:
                request.ids = [i.strip() for i in value.split(",")]
        else:
            raise NotImplementedError(f"argument {arg!r}")
    if request.mode == "query" and not has_format:
        raise UsageError('"--format" option must be specified when using "--query-gpu".\n')
    if request.mode != "query" and (has_format or request.ids):
        raise NotImplementedError("--format/--id without --query-gpu")
    return request


def load_gpus(gpu_dir: Path) -> tuple[list[str], list[dict[str, str]]]:
    """Parse ``query.csv`` (a ``--format=csv`` capture) into header keys and rows."""
    lines = (gpu_dir / "query.csv").read_text(encoding="utf-8").splitlines()
    headers = [h.strip() for h in lines[0].split(",")]
    keys = [h.split(" [", 1)[0] for h in headers]
    rows = [dict(zip(keys, (v.strip() for v in line.split(", ")), strict=True)) for line in lines[1:] if line]
    return headers, rows


def select(rows: list[dict[str, str]], ids: list[str]) -> list[dict[str, str]]:
    if not ids:
        return rows
    wanted = set(ids)
    return [r for r in rows if wanted & {r.get("index"), r.get("uuid"), r.get("pci.bus_id")}]


def strip_unit(key: str, value: str) -> str:
    """``--format=csv,nounits``: ``81559 MiB`` becomes ``81559``."""
    return value.split(" ", 1)[0] if key == "memory.total" else value


def query(gpu_dir: Path, request: Request) -> int:
    unknown_options = request.format_options - FORMAT_OPTIONS
    if "csv" not in request.format_options or unknown_options:
        sys.stdout.write(f'"{",".join(sorted(request.format_options))}" is not a valid format.\n\n')
        return 2
    headers, all_rows = load_gpus(gpu_dir)
    header_by_key = {h.split(" [", 1)[0]: h for h in headers}
    header_by_key["count"] = "count"
    fields = [FIELD_ALIASES.get(f, f) for f in request.fields]
    for requested, key in zip(request.fields, fields, strict=True):
        if key not in header_by_key:
            sys.stdout.write(f'Field "{requested}" is not a valid field to query.\n\n')
            return 2
    rows = select(all_rows, request.ids)
    if not rows:
        sys.stdout.write("No devices were found\n")
        return 6
    nounits = "nounits" in request.format_options
    out: list[str] = []
    if "noheader" not in request.format_options:
        out.append(", ".join(header_by_key[k] for k in fields))
    for row in rows:
        values = [str(len(all_rows)) if k == "count" else row[k] for k in fields]
        if nounits:
            values = [strip_unit(k, v) for k, v in zip(fields, values, strict=True)]
        out.append(", ".join(values))
    sys.stdout.write("\n".join(out) + "\n")
    return 0


def main(host_dir: str, argv: list[str]) -> int:
    root = Path(host_dir)
    record_call(root, TOOL, argv)
    gpu_dir = root / "gpu"
    profile = json.loads((gpu_dir / "profile.json").read_text(encoding="utf-8"))
    if profile["nvidia_smi"] == "failing":
        sys.stdout.write((gpu_dir / "nvidia-smi.txt").read_text(encoding="utf-8"))
        return int(profile["exit_code"])
    try:
        request = parse_args(argv)
    except UsageError as error:
        sys.stdout.write(str(error))
        return 2
    except NotImplementedError as error:
        return not_modelled(TOOL, str(error))
    if request.mode == "query":
        return query(gpu_dir, request)
    name = "nvidia-smi-L.txt" if request.mode == "list" else "nvidia-smi.txt"
    sys.stdout.write((gpu_dir / name).read_text(encoding="utf-8"))
    return 0
