"""What a name, an address or a user is allowed to look like, and how a message echoes a value.

One validator per kind of value, shared by the spec models and rules, ``deepctl init`` (each
answer as it is typed) and the options of ``add-node``, so that a value is judged the same way
wherever it is given. :func:`shown` caps every echo of a user value in a message.
"""

from __future__ import annotations

import re
from ipaddress import ip_address

RFC1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\Z")  # \Z: no trailing "\n"
# A login name as POSIX allows it portably (the portable filename characters, not starting
# with '-'), at most 32 characters as useradd allows: no spaces, quotes, '$' or shell syntax.
POSIX_USER = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}\Z")
ECHO_CHARS = 80


def shown(value: object, limit: int = ECHO_CHARS) -> str:
    """Pure: ``repr(value)``, cut to ``limit`` characters with how long it was.

    >>> shown("x" * 100)[-20:]
    "...' (100 characters)"
    """
    text = repr(value)
    if len(text) <= limit:
        return text
    size = len(value) if isinstance(value, str | bytes | list | dict) else len(text)
    return f"{text[:limit]}...' ({size} characters)" if isinstance(value, str) else \
        f"{text[:limit]}... ({size} characters)"


def capped(text: str, limit: int = ECHO_CHARS) -> str:
    """Pure: ``text`` as it is, or cut to ``limit`` characters with how long it was."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def is_dns_name(value: str) -> bool:
    """Pure: lower-case RFC 1123 labels joined by dots, at most 253 characters, and not a
    dotted number (RFC 1123 2.1: the last label is never all digits, so ``10.0.0.300`` is no
    name)."""
    if not value or len(value) > 253:
        return False
    labels = value.split(".")
    return all(RFC1123_LABEL.match(label) for label in labels) and not labels[-1].isdigit()


def is_address(value: str) -> bool:
    """Pure: an IP address, or a DNS name (either case, as DNS is case-insensitive)."""
    try:
        ip_address(value)
        return True
    except ValueError:
        return is_dns_name(value.lower())


def address_problem(value: str) -> str | None:
    """Why ``value`` is no host address, or None."""
    if is_address(value):
        return None
    if re.fullmatch(r"[0-9]+(\.[0-9]+){3}", value):
        return f"{shown(value)} is not an IPv4 address (each part is 0-255) nor a DNS name"
    return f"{shown(value)} is neither an IP address nor a DNS name"


def label_problem(value: str, what: str) -> str | None:
    """Why ``value`` is no lower-case RFC 1123 label (a cluster or node name), or None."""
    if RFC1123_LABEL.match(value):
        return None
    return (f"{what} {shown(value)} is not a lower-case RFC 1123 label (a-z, 0-9 and '-', at "
            "most 63 characters, starting and ending alphanumeric)")


def user_problem(value: str) -> str | None:
    """Why ``value`` is no POSIX login name, or None."""
    if POSIX_USER.match(value):
        return None
    return (f"user {shown(value)} is not a POSIX user name (letters, digits, '_', '.' and "
            "'-', not starting with '-' or '.', at most 32 characters)")


def dns_domain_problem(value: str) -> str | None:
    """Why ``value`` is no DNS domain (dnsDomain), or None."""
    if is_dns_name(value):
        return None
    return (f"{shown(value)} is not a DNS domain (lower-case labels of a-z, 0-9 and '-' "
            "separated by dots, e.g. cluster.local)")
