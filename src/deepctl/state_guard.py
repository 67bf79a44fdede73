"""The state directory cannot be subverted: checks in the spirit of OpenSSH's StrictModes.

The state directory holds what a deploy trusts (the inventory Ansible runs on, known_hosts,
secrets). Whoever can replace a file there, or point a directory somewhere else, controls the
next deploy, which often runs as root. So deepctl refuses, before using it:

- a symlink anywhere on the state path (``.deepctl``, ``.deepctl/<cluster>``, ``inventory/``
  ...): it would be followed, its target's mode changed and written into;
- a directory owned by another user (that user could swap ``hosts.yaml``);
- a directory group or others may write to.

It never changes a mode outside the state directory: it says what to fix instead.
:func:`dir_problem` is pure; :func:`check_dir` and :func:`check_state_dir` read the disk.
The directories to check come from :class:`deepctl.state.paths.StateDir` (the one layout).
"""

from __future__ import annotations

import os
import pwd
import stat
from dataclasses import dataclass
from pathlib import Path

from deepctl.errors import StateError


@dataclass(frozen=True)
class DirFacts:
    """``lstat`` of a path, reduced to what the checks need (``kind`` "missing" if absent)."""

    kind: str  # "missing" | "symlink" | "directory" | "other"
    owner: int = -1
    mode: int = 0


def dir_problem(path: Path, facts: DirFacts, euid: int) -> tuple[str, str] | None:
    """Pure: (what is wrong, how to fix it) for one directory of the state path, or None."""
    if facts.kind == "missing":
        return None
    if facts.kind == "symlink":
        return (f"{path} is a symbolic link; deepctl does not follow links in its state "
                "directory (the target would be changed and written into)",
                f"replace the link with a real directory (rm {path}), or pass --state-dir "
                "with the directory you mean")
    if facts.kind != "directory":
        return (f"{path} is not a directory", f"move it away (mv {path} {path}.old)")
    if facts.owner != euid:
        return (f"{path} belongs to {_user(facts.owner)}, not to {_user(euid)} who runs "
                "deepctl; its owner could change what the deploy uses",
                "use a state directory of your own (--state-dir), or, if you trust its "
                f"content, take it over: chown -R {_user(euid)} {path}")
    if facts.mode & 0o022:
        who = " and ".join(w for w, bit in (("group", 0o020), ("others", 0o002))
                           if facts.mode & bit)
        return (f"{path} has mode {stat.S_IMODE(facts.mode):04o}: {who} may write to it "
                "and so change what the deploy uses",
                f"check its content, then: chmod go-w {path}")
    return None


def _user(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def dir_facts(path: Path) -> DirFacts:
    try:
        info = path.lstat()
    except FileNotFoundError:
        return DirFacts("missing")
    if stat.S_ISLNK(info.st_mode):
        return DirFacts("symlink", info.st_uid, info.st_mode)
    kind = "directory" if stat.S_ISDIR(info.st_mode) else "other"
    return DirFacts(kind, info.st_uid, stat.S_IMODE(info.st_mode))


def check_dir(path: Path) -> None:
    """Raise :class:`StateError` when ``path`` exists and is unsafe to use as deepctl's."""
    problem = dir_problem(path, dir_facts(path), os.geteuid())
    if problem is not None:
        raise StateError(f"unsafe state directory: {problem[0]}", hint=problem[1])


def check_state_dir(dirs: list[Path]) -> None:
    """Refuse a state directory (``dirs``: its directories, and ``.deepctl`` above it,
    outermost first) that another user could subvert."""
    for path in dirs:
        check_dir(path)
