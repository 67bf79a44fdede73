"""Asking before changing hosts: on a terminal only, never with ``--yes``."""

from __future__ import annotations

import sys

import typer

from deepctl.errors import Canceled


def confirm(question: str, yes: bool) -> None:
    """Ask ``question`` on a terminal unless ``yes``; raise :class:`Canceled` on "no"."""
    if yes or not sys.stdin.isatty():
        return
    if not typer.confirm(question, default=False):
        raise Canceled("nothing was changed", hint="pass --yes to skip this question")
