"""Safe arguments for ``git clone`` of Kubespray: a tag that is a tag, a URL that is a URL.

``deepctl kubespray fetch --tag T --repo URL`` clones into ``CACHE/T``. A tag such as
``../../../x`` would put that directory outside the cache, and a ``--repo`` starting with
``-`` would reach git as an option (``--upload-pack=...`` runs a command). So the tag must be
a plain tag name, and every user value is passed after ``--``. Pure; tested by equality.
"""

from __future__ import annotations

import re

from deepctl.errors import UsageError

# A subset of git's refname rules (git check-ref-format) that is also one safe path
# component: letters, digits, '.', '_', '+', '-'; no '..', no leading '.' or '-', no '.lock'.
TAG_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,127}")


def tag_problem(tag: str) -> str | None:
    """Pure: why ``tag`` is not accepted as a Kubespray tag name, or None."""
    if not TAG_PATTERN.fullmatch(tag):
        return ("a tag name is letters, digits, '.', '_', '+' and '-', starting with a letter "
                "or digit (no '/', spaces or other characters)")
    if ".." in tag or tag.endswith((".", ".lock")):
        return "a tag name has no '..' and does not end with '.' or '.lock'"
    return None


def check_tag(tag: str) -> str:
    """``tag`` if it is a usable tag name, else :class:`UsageError`."""
    problem = tag_problem(tag)
    if problem is not None:
        shown = tag if len(tag) <= 80 else tag[:80] + "..."
        raise UsageError(f"--tag {shown!r} is not a Kubespray tag: {problem}",
                         hint="pass a release tag, e.g. `deepctl kubespray fetch --tag v2.31.0`")
    return tag


def clone_argv(git: str, tag: str, url: str, target: str) -> list[str]:
    """Pure: the ``git clone`` command line; user values only after ``--`` or as values."""
    return [git, "clone", "--quiet", "--depth", "1", f"--branch={check_tag(tag)}", "--",
            url, target]
