"""What a skopeo failure says, for people: the cause without its wrapper or upload tokens.

skopeo ends with ``time="..." level=fatal msg="<what it was doing>: ... : <cause>"``, URLs
carrying ``?_state=<long token>``. People get the cause and the request it failed on; the
full text is kept in the mirror's ``skopeo.log`` (:func:`deepctl.artifacts.images.run_skopeo`).
"""

from __future__ import annotations

import re

_FATAL_MSG = re.compile(r'level=(?:fatal|error) msg="((?:[^"\\]|\\.)*)"')
_HTTP_CALL = re.compile(r'(Get|Head|Put|Patch|Post|Delete) "([^"?]*)(?:\?[^"]*)?": (.*)$')
_QUERY = re.compile(r'(https?://[^\s"?]+)\?[^\s"]*?(?=: |[\s"]|$)')


def skopeo_cause(stderr: str, returncode: int = 1) -> str:
    """The cause of a skopeo failure, for people: its message without the ``time=... level=``
    wrapper, upload tokens (``?_state=...``) or the chain of what it was doing."""
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    if not lines:
        return f"skopeo exited with {returncode}"
    text = lines[-1]
    found = _FATAL_MSG.search(text)
    if found:
        text = found.group(1).replace('\\"', '"').replace("\\\\", "\\")
    call = _HTTP_CALL.search(text)
    if call:
        method, url, cause = call.groups()
        return f"{_QUERY.sub(_no_query, cause)} ({method} {url})"
    return _QUERY.sub(_no_query, text)


def _no_query(match: re.Match[str]) -> str:
    return match.group(1)
