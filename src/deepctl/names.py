"""Host names for people, at any scale: ``gpu[0001-2000]`` instead of 2,000 names.

Pure. :func:`compress` folds runs of names that differ only by a consecutive number of the
same width (Slurm's hostlist notation); :func:`summary` caps what is shown, so a line about
2,003 hosts stays a line. The full lists stay in ``--json``.
"""

from __future__ import annotations

import re

NUMBERED = re.compile(r"^(.*?)(\d+)$")
SHOWN = 8  # names (or ranges) listed before "and N more"


def _split(name: str) -> tuple[str, str] | None:
    match = NUMBERED.match(name)
    return (match.group(1), match.group(2)) if match else None


def compress(names: list[str]) -> list[str]:
    """``[gpu01, gpu02, gpu03, cp1]`` -> ``[gpu[01-03], cp1]`` (order kept)."""
    out: list[str] = []
    run: list[str] = []  # names of the current numbered run

    def flush() -> None:
        if len(run) > 2:
            prefix, first = _split(run[0]) or ("", "")
            out.append(f"{prefix}[{first}-{(_split(run[-1]) or ('', ''))[1]}]")
        else:
            out.extend(run)
        run.clear()

    for name in names:
        parts, last = _split(name), _split(run[-1]) if run else None
        if (parts and last and parts[0] == last[0] and len(parts[1]) == len(last[1])
                and int(parts[1]) == int(last[1]) + 1):
            run.append(name)
            continue
        flush()
        run.append(name)
    flush()
    return out


def summary(names: list[str], shown: int = SHOWN, *, counted: bool = True) -> str:
    """``cp1, cp2`` for a few names; ``2000 hosts: gpu[0001-2000]`` for many (without the
    count when ``counted`` is false)."""
    if len(names) <= shown:
        return ", ".join(names)
    parts = compress(names)
    listed = ", ".join(parts[:shown])
    more = len(parts) - shown
    rest = f" and {sum(_count(p) for p in parts[shown:])} more" if more > 0 else ""
    return f"{len(names)} hosts: {listed}{rest}" if counted else f"{listed}{rest}"


def _count(part: str) -> int:
    match = re.match(r"^.*\[(\d+)-(\d+)\]$", part)
    return int(match.group(2)) - int(match.group(1)) + 1 if match else 1


def hosts_label(names: list[str], shown: int = SHOWN) -> str:
    """``gpu1`` for one host, ``2 hosts: gpu1, gpu2`` or ``192 hosts: gpu[001-192]``."""
    if len(names) == 1:
        return names[0]
    text = summary(names, shown)
    return text if len(names) > shown else f"{len(names)} hosts: {text}"
