"""The one way deepctl makes a rich console: user text is never interpreted.

rich, by default, turns ``:name:`` into emoji (``fd00:a:b::1`` printed as ``fd00🅰b::1``,
``root:x:0:0`` as ``root❌0:0``), colours numbers and paths, and reads ``[...]`` as markup.
Every console here has emoji codes and highlighting off. Markup stays on for deepctl's own
literal strings only: a value that comes from a user, a host or the API server is passed
through :func:`escape` (or as a :class:`rich.text.Text`). ``tests/unit/test_consoles.py``
walks ``src/deepctl`` so a new ``Console(...)`` or an unescaped value cannot creep in.
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:  # rich is imported when something is printed, not at start-up
    from rich.console import Console


def make_console(*, stderr: bool = False, file: IO[str] | None = None,
                 soft_wrap: bool = False) -> Console:
    """A rich console that shows text exactly as given (no emoji codes, no highlighting)."""
    from rich.console import Console

    return Console(stderr=stderr, file=file, soft_wrap=soft_wrap, emoji=False, highlight=False)


def escape(text: object) -> str:
    """``text`` (any value, as ``str``) made safe to put inside deepctl's markup."""
    from rich.markup import escape as rich_escape

    return rich_escape(str(text))
