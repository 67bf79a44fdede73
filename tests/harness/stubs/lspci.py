"""``lspci`` stand-in replaying ``HOSTDIR/gpu/lspci.txt`` (stored in ``lspci -nn`` form).

Supported options: ``-n`` (numeric), ``-nn`` (names and numbers), ``-D`` (PCI domain)
and ``-d [vendor]:[device][:class]``.
"""

from __future__ import annotations

import getopt
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from .record import not_modelled, record_call

TOOL = "lspci"
NN_LINE = re.compile(
    r"^(?P<slot>\S+) (?P<cls>.+?) \[(?P<ccode>[0-9a-f]{4})\]: (?P<desc>.*?)"
    r" ?\[(?P<vendor>[0-9a-f]{4}):(?P<device>[0-9a-f]{4})\](?P<tail>.*)$"
)
# Real lspci options the stand-in does not reproduce (the second group takes a value).
UNMODELLED = "vkmtxbqMPGj" + "s:A:i:H:p:F:O:"
USAGE = "Usage: lspci [<switches>]\n"


@dataclass(frozen=True)
class Device:
    slot: str
    cls: str
    ccode: str
    desc: str
    vendor: str
    device: str
    tail: str

    def render(self, numeric: int, domain: bool) -> str:
        slot = f"0000:{self.slot}" if domain else self.slot
        ids = f"{self.vendor}:{self.device}"
        if numeric >= 2:
            return f"{slot} {self.cls} [{self.ccode}]: {self.desc} [{ids}]{self.tail}"
        if numeric == 1:
            return f"{slot} {self.ccode}: {ids}{self.tail}"
        return f"{slot} {self.cls}: {self.desc}{self.tail}"


def parse_devices(text: str) -> list[Device]:
    devices = []
    for line in text.splitlines():
        match = NN_LINE.match(line)
        if match:
            devices.append(Device(**match.groupdict()))
    return devices


def matches(device: Device, spec: str) -> bool:
    """``-d [<vendor>]:[<device>][:<class>]``; empty parts match anything."""
    parts = spec.lower().split(":")
    if len(parts) < 2 or len(parts) > 3:
        raise ValueError(spec)
    values = (device.vendor, device.device, device.ccode)
    return all(not want or want == have for want, have in zip(parts, values, strict=False))


def main(host_dir: str, argv: list[str]) -> int:
    root = Path(host_dir)
    record_call(root, TOOL, argv)
    try:
        options, operands = getopt.getopt(argv, "nDd:" + UNMODELLED)
    except getopt.GetoptError as error:
        sys.stderr.write(f"lspci: {error}\n{USAGE}")
        return 2
    if operands:
        sys.stderr.write(f"lspci: Unexpected arguments\n{USAGE}")
        return 2
    numeric, domain, spec = 0, False, ""
    for option, value in options:
        if option == "-n":
            numeric += 1
        elif option == "-D":
            domain = True
        elif option == "-d":
            spec = value
        else:
            return not_modelled(TOOL, f"option {option}")
    devices = parse_devices((root / "gpu" / "lspci.txt").read_text(encoding="utf-8"))
    try:
        selected = [d for d in devices if not spec or matches(d, spec)]
    except ValueError:
        sys.stderr.write(f"lspci: -d: Invalid device ID: {spec}\n")
        return 2
    sys.stdout.write("".join(d.render(numeric, domain) + "\n" for d in selected))
    return 0
