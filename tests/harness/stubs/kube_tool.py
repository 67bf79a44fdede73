"""Recording ``kubectl``/``helm`` stand-ins, scripted by ``HOSTDIR/kube-bin/state.json``.

``state.json`` maps a tool name to responses keyed by an argv prefix joined by spaces,
e.g. ``{"kubectl": {"get nodes": {"stdout": "...", "stderr": "", "rc": 0}}}``.
The longest matching prefix wins; ``""`` matches every call. Without a match the
tool prints nothing and exits 0. Stdin is captured when the arguments ask for it
(``-f -``, ``--filename=-``, ``--values -`` ...), like the real tools.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .record import read_stdin, record_call

STDIN_OPTIONS = ("-f", "--filename", "--values")


def wants_stdin(argv: list[str]) -> bool:
    for position, arg in enumerate(argv):
        if arg in STDIN_OPTIONS and argv[position + 1 : position + 2] == ["-"]:
            return True
        if any(arg == f"{option}=-" for option in STDIN_OPTIONS):
            return True
    return False


def find_response(responses: dict[str, Any], argv: list[str]) -> dict[str, Any]:
    best: dict[str, Any] = {}
    best_length = -1
    for prefix, response in responses.items():
        words = prefix.split()
        if argv[: len(words)] == words and len(words) > best_length:
            best, best_length = response, len(words)
    return best


def main(host_dir: str, tool: str, argv: list[str]) -> int:
    root = Path(host_dir)
    stdin = read_stdin() if wants_stdin(argv) else None
    record_call(root, tool, argv, stdin)
    state_file = root / "kube-bin" / "state.json"
    state = json.loads(state_file.read_text(encoding="utf-8")) if state_file.exists() else {}
    response = find_response(state.get(tool, {}), argv)
    sys.stdout.write(str(response.get("stdout", "")))
    sys.stderr.write(str(response.get("stderr", "")))
    return int(response.get("rc", 0))
