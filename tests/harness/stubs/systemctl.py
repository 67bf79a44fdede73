"""A recording ``systemctl`` stand-in for isolated test hosts (no systemd runs there).

Unit state lives in ``HOSTDIR/systemd/units.json`` (``{"unit": {"active": bool, "enabled":
bool}}``): start/stop/enable/disable change it, ``show``/``is-active``/``is-enabled``/
``list-units``/``list-unit-files`` read it. Every unit counts as loaded (the host has no unit
database); nothing is really started. Unknown verbs fail loudly (exit 2).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .record import not_modelled, record_call

CHANGE = {"start": ("active", True), "restart": ("active", True), "reload-or-restart": ("active", True),
          "try-restart": None, "reload": None, "try-reload-or-restart": None, "stop": ("active", False),
          "enable": ("enabled", True), "disable": ("enabled", False), "mask": ("enabled", False),
          "unmask": None, "reenable": ("enabled", True), "kill": None, "reset-failed": None}
NO_UNIT = ("daemon-reload", "daemon-reexec", "--version", "list-units", "list-unit-files",
           "is-system-running", "list-jobs", "show-environment")


def _unit(name: str) -> str:
    return name if "." in name else f"{name}.service"


class Units:
    def __init__(self, host_dir: Path) -> None:
        self.path = host_dir / "systemd" / "units.json"
        self.data: dict[str, dict[str, bool]] = (
            json.loads(self.path.read_text(encoding="utf-8")) if self.path.exists() else {})

    def get(self, unit: str) -> dict[str, bool]:
        return self.data.get(_unit(unit), {"active": False, "enabled": False})

    def set(self, unit: str, key: str, value: bool) -> None:
        self.data.setdefault(_unit(unit), {"active": False, "enabled": False})[key] = value

    def save(self) -> None:
        self.path.parent.mkdir(exist_ok=True)
        self.path.write_text(json.dumps(self.data, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def _show(unit: str, state: dict[str, bool]) -> str:
    active = "active" if state["active"] else "inactive"
    props: dict[str, Any] = {
        "Id": _unit(unit), "Names": _unit(unit), "Description": f"{unit} (test-harness stand-in)",
        "LoadState": "loaded", "ActiveState": active, "SubState": "running" if state["active"] else "dead",
        "UnitFileState": "enabled" if state["enabled"] else "disabled", "MainPID": 0, "ExecMainPID": 0,
        "FragmentPath": f"/etc/systemd/system/{_unit(unit)}", "CanStart": "yes", "CanStop": "yes",
        "CanReload": "yes", "Result": "success", "NRestarts": 0,
    }
    return "".join(f"{key}={value}\n" for key, value in props.items())


def _query(verb: str, units: Units, names: list[str]) -> int:
    states = [units.get(name) for name in names]
    if verb == "show":
        sys.stdout.write("\n".join(_show(n, s) for n, s in zip(names, states, strict=True)))
        return 0
    if verb == "is-active":
        sys.stdout.write("".join("active\n" if s["active"] else "inactive\n" for s in states))
        return 0 if all(s["active"] for s in states) else 3
    if verb == "is-enabled":
        sys.stdout.write("".join("enabled\n" if s["enabled"] else "disabled\n" for s in states))
        return 0 if all(s["enabled"] for s in states) else 1
    if verb == "is-failed":
        return 1
    for name, state in zip(names, states, strict=True):
        active = "active" if state["active"] else "inactive"
        sys.stdout.write(f"* {_unit(name)} - stand-in\n   Active: {active}\n")
    return 0 if all(s["active"] for s in states) else 3


def _listing(verb: str, units: Units) -> int:
    if verb == "list-units":
        for name, state in sorted(units.data.items()):
            if state["active"]:
                sys.stdout.write(f"{name} loaded active running {name}\n")
    elif verb == "list-unit-files":
        for name, state in sorted(units.data.items()):
            sys.stdout.write(f"{name} {'enabled' if state['enabled'] else 'disabled'} enabled\n")
    elif verb == "--version":
        sys.stdout.write("systemd 252 (deepctl test-harness stand-in)\n")
    elif verb == "is-system-running":
        sys.stdout.write("running\n")
    return 0


def main(host_dir: str, argv: list[str]) -> int:
    root = Path(host_dir)
    record_call(root, "systemctl", argv)
    words = [arg for arg in argv if not arg.startswith("-") or arg == "--version"]
    now = "--now" in argv
    if not words:
        return not_modelled("systemctl", "a call without a verb")
    verb, names = words[0], words[1:]
    units = Units(root)
    if verb in NO_UNIT:
        return _listing(verb, units)
    if verb in ("show", "is-active", "is-enabled", "is-failed", "status", "cat"):
        return _query(verb, units, names)
    if verb not in CHANGE:
        return not_modelled("systemctl", f"'systemctl {verb}'")
    change = CHANGE[verb]
    for name in names:
        if change is not None:
            units.set(name, *change)
        if now and verb in ("enable", "disable"):
            units.set(name, "active", verb == "enable")
    units.save()
    return 0
