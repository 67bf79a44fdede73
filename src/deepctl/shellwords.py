"""Commands in hints, written so that they run as printed.

Every hint that names a deepctl command uses :func:`deepctl_command`: the real spec path and
every value quoted for a POSIX shell where needed (a path with a space or ``$`` stays one
word), never a placeholder such as ``SPEC``. ``tests/unit/test_hints.py`` walks src for
placeholders.
"""

from __future__ import annotations

import shlex


def deepctl_command(*words: object) -> str:
    """``deepctl WORD ...`` as a shell runs it, e.g. ``deepctl preflight '/my specs/c.yaml'``."""
    return shlex.join(["deepctl", *(str(word) for word in words)])


def record_host_keys_command(spec: object) -> str:
    """The command that checks a spec's hosts and records their SSH host keys on first use."""
    return deepctl_command("preflight", spec, "--accept-new-hosts")
