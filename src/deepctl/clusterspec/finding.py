"""What a spec rule reports, and "did you mean" suggestions for misspelt names."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from deepctl.errors import Severity

PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class Finding:
    path: PathKey
    message: str
    severity: Severity = "error"


def closest(word: str, choices: list[str] | set[str] | frozenset[str]) -> str | None:
    """The nearest name to ``word`` among ``choices``, if one is near enough."""
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.75)
    return close[0] if close else None


def did_you_mean(word: str, choices: list[str] | set[str] | frozenset[str]) -> str:
    """'; did you mean X?' when a near name exists, else ''."""
    near = closest(word, choices)
    return f"; did you mean {near!r}?" if near else ""
