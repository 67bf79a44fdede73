"""A recording ``sysctl`` stand-in for isolated test hosts, whose ``/proc/sys`` is read-only.

Reads answer from what was set on this host (``HOSTDIR/sysctl.json``), else the real
``/proc/sys``; writes (``-w k=v``, ``k=v``, ``-p FILE``, ``--system``) are recorded there and
never reach the kernel, which every host shares. Unknown keys fail like the real tool.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .record import not_modelled, record_call

PROC_SYS = Path("/proc/sys")
SYSTEM_FILES = ("/run/sysctl.d", "/etc/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d",
                "/lib/sysctl.d")


def _proc_path(key: str) -> Path:
    return PROC_SYS / key.replace(".", "/")


class Settings:
    def __init__(self, host_dir: Path) -> None:
        self.path = host_dir / "sysctl.json"
        self.data: dict[str, str] = (
            json.loads(self.path.read_text(encoding="utf-8")) if self.path.exists() else {})

    def read(self, key: str) -> str | None:
        if key in self.data:
            return self.data[key]
        try:
            return " ".join(_proc_path(key).read_text(encoding="ascii").split())
        except OSError:
            return None

    def write(self, key: str, value: str) -> bool:
        if not _proc_path(key).exists():
            sys.stderr.write(f"sysctl: cannot stat {_proc_path(key)}: No such file or directory\n")
            return False
        self.data[key] = " ".join(value.split())
        print(f"{key} = {self.data[key]}")
        return True

    def save(self) -> None:
        self.path.write_text(json.dumps(self.data, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def _assignments(path: Path) -> list[tuple[str, str]]:
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip().lstrip("-")
        if line and not line.startswith(("#", ";")) and "=" in line:
            key, value = line.split("=", 1)
            pairs.append((key.strip(), value.strip()))
    return pairs


def _files(argv: list[str]) -> list[Path]:
    if "--system" in argv:
        found = [p for d in SYSTEM_FILES if Path(d).is_dir() for p in sorted(Path(d).glob("*.conf"))]
        return [*found, *[Path("/etc/sysctl.conf")][: Path("/etc/sysctl.conf").exists()]]
    index = argv.index("-p")
    given = argv[index + 1:index + 2]
    return [Path(given[0] if given and not given[0].startswith("-") else "/etc/sysctl.conf")]


def main(host_dir: str, argv: list[str]) -> int:
    record_call(Path(host_dir), "sysctl", argv)
    settings = Settings(Path(host_dir))
    ignore_missing = "-e" in argv
    if "-p" in argv or "--system" in argv:
        pairs = [pair for path in _files(argv) for pair in _assignments(path)]
    else:
        words = [arg for arg in argv if not arg.startswith("-")]
        if not words:
            return not_modelled("sysctl", f"'sysctl {' '.join(argv)}'")
        if all("=" not in word for word in words):
            values = [settings.read(word) for word in words]
            for word, value in zip(words, values, strict=True):
                if value is None and not ignore_missing:
                    sys.stderr.write(f"sysctl: cannot stat {_proc_path(word)}: No such file or directory\n")
                    return 255
                if value is not None:
                    print(value if "-n" in argv else f"{word} = {value}")
            return 0
        pairs = [tuple(word.split("=", 1)) for word in words]  # type: ignore[misc]
    ok = all([settings.write(key, value) or ignore_missing for key, value in pairs])
    settings.save()
    return 0 if ok else 255
