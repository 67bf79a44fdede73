"""A recording ``hostnamectl`` stand-in for isolated test hosts (no systemd-hostnamed there).

``set-hostname`` writes ``/etc/hostname`` (static) and sets the kernel hostname (transient)
of the host's own UTS namespace; the queries answer from those two.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from .record import not_modelled, record_call

ETC_HOSTNAME = Path("/etc/hostname")


def _static() -> str:
    try:
        return ETC_HOSTNAME.read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def main(host_dir: str, argv: list[str]) -> int:
    record_call(Path(host_dir), "hostnamectl", argv)
    flags = {arg for arg in argv if arg.startswith("--")}
    words = [arg for arg in argv if not arg.startswith("--")]
    verb = words[0] if words else "status"
    if verb in ("status", "hostname") and len(words) <= 1:
        sys.stdout.write((_static() if "--static" in flags else socket.gethostname()) + "\n")
        return 0
    if verb in ("set-hostname", "hostname") and len(words) == 2:
        name = words[1]
        if ("--transient" not in flags and "--pretty" not in flags) or "--static" in flags:
            ETC_HOSTNAME.write_text(name + "\n", encoding="utf-8")
        if ("--static" not in flags and "--pretty" not in flags) or "--transient" in flags:
            subprocess.run(["hostname", name], check=True)
        return 0
    return not_modelled("hostnamectl", f"'hostnamectl {' '.join(argv)}'")
