"""The SSH private keys a spec names, checked on this machine before any connection.

OpenSSH (Ansible's transport) and paramiko (preflight) must use the same key the same way,
so a key OpenSSH would refuse is refused here, once, with the fix, instead of once per host
later: it must exist, be a regular file holding a *private* key (not the ``.pub``), and be
unreadable by group and others (OpenSSH's "UNPROTECTED PRIVATE KEY FILE"). deepctl asks for
no passphrase: a passphrase-protected key is used through ssh-agent (``SSH_AUTH_SOCK``), by
paramiko and OpenSSH alike.

:func:`judge_key` is pure (facts about a file in, a verdict out); :func:`inspect_key` reads
the file. :mod:`deepctl.ssh.spec_keys` checks every key a spec names.
"""

from __future__ import annotations

import base64
import stat
import struct
from dataclasses import dataclass
from pathlib import Path
from shlex import quote
from typing import TYPE_CHECKING

from deepctl.user_input import InputError, read_input

if TYPE_CHECKING:
    import paramiko

HEAD_BYTES = 64 * 1024  # private keys are a few KiB; more than this is not a key
OPENSSH_MAGIC = b"openssh-key-v1\x00"
PRIVATE_MARKERS = ("-----BEGIN OPENSSH PRIVATE KEY-----", "-----BEGIN RSA PRIVATE KEY-----",
                   "-----BEGIN EC PRIVATE KEY-----", "-----BEGIN DSA PRIVATE KEY-----",
                   "-----BEGIN PRIVATE KEY-----", "-----BEGIN ENCRYPTED PRIVATE KEY-----")
PUBLIC_PREFIXES = ("ssh-", "ecdsa-sha2-", "sk-ssh-", "sk-ecdsa-", "-----BEGIN SSH2 PUBLIC KEY")


@dataclass(frozen=True)
class KeyFacts:
    """What :func:`inspect_key` found about a key file (no secret material kept)."""

    path: Path
    kind: str  # "missing" | "directory" | "other" | "file" | "unreadable"
    mode: int = 0
    owner: int = -1
    head: str = ""  # the start of the file, only when it is a regular, readable file
    public_sibling: str = ""  # PATH.pub, when it exists


@dataclass(frozen=True)
class KeyVerdict:
    """A usable key (``problem`` is None), or what is wrong and the fix."""

    path: Path
    problem: str | None = None
    fix: str | None = None
    encrypted: bool = False


def judge_key(facts: KeyFacts, *, uid: int, agent: bool) -> KeyVerdict:
    """Pure: can OpenSSH and paramiko both use this key without asking anything?"""
    path = facts.path
    if facts.kind == "missing":
        return KeyVerdict(path, f"SSH key {path} does not exist",
                          "point identityFile at your private key, or create one with "
                          f"`ssh-keygen -t ed25519 -f {quote(str(path))}`")
    if facts.kind != "file":
        what = {"directory": "a directory", "unreadable": "not readable by this user"}.get(
            facts.kind, "not a regular file")
        return KeyVerdict(path, f"SSH key {path} is {what}",
                          "point identityFile at the private key file itself (e.g. "
                          "~/.ssh/id_ed25519)")
    text = facts.head.lstrip()
    if text.startswith(PUBLIC_PREFIXES) or not any(m in text for m in PRIVATE_MARKERS):
        public = text.startswith(PUBLIC_PREFIXES) or path.suffix == ".pub"
        private = path.with_suffix("") if path.suffix == ".pub" else None
        return KeyVerdict(
            path, f"SSH key {path} is {'a public key' if public else 'not a private key'}",
            f"point identityFile at the private key{f' ({private})' if private else ''}, "
            "not at the .pub file" if public else "point identityFile at an OpenSSH private "
            "key (the file ssh-keygen writes without .pub)")
    if facts.owner == uid and facts.mode & 0o077:
        return KeyVerdict(path, f"SSH key {path} has mode {facts.mode & 0o777:04o}: group or "
                          "others can read it, and OpenSSH (used by Ansible) refuses such a key "
                          "(UNPROTECTED PRIVATE KEY FILE)", f"chmod 600 {quote(str(path))}")
    encrypted = is_encrypted(text)
    if encrypted and not agent:
        return KeyVerdict(path, f"SSH key {path} is protected by a passphrase and deepctl asks "
                          "for none (no ssh-agent: SSH_AUTH_SOCK is not set)",
                          f'load it into ssh-agent, then rerun: eval "$(ssh-agent)" && '
                          f"ssh-add {quote(str(path))}", encrypted=True)
    return KeyVerdict(path, encrypted=encrypted)


def is_encrypted(text: str) -> bool:
    """Pure: does this private key file text need a passphrase?"""
    if "BEGIN ENCRYPTED PRIVATE KEY" in text or "Proc-Type: 4,ENCRYPTED" in text:
        return True
    blob = _openssh_blob(text)
    if blob is None:
        return False
    fields = _strings(blob[len(OPENSSH_MAGIC):], 1)
    return bool(fields) and fields[0] != b"none"


def public_blob(text: str, public_sibling: str = "") -> bytes | None:
    """Pure: the public key (SSH wire format) of a private key file, without decrypting it.

    OpenSSH's own format stores it in clear; for PEM keys it comes from ``KEY.pub``.
    """
    blob = _openssh_blob(text)
    if blob is not None:
        fields = _strings(blob[len(OPENSSH_MAGIC):], 3)
        rest = blob[len(OPENSSH_MAGIC) + sum(4 + len(f) for f in fields):]
        if len(fields) == 3 and len(rest) >= 4:
            keys = _strings(rest[4:], 1)
            if keys:
                return keys[0]
    parts = public_sibling.split()
    if len(parts) >= 2:
        try:
            return base64.b64decode(parts[1], validate=True)
        except ValueError:
            return None
    return None


def _openssh_blob(text: str) -> bytes | None:
    begin, end = "-----BEGIN OPENSSH PRIVATE KEY-----", "-----END OPENSSH PRIVATE KEY-----"
    if begin not in text or end not in text:
        return None
    body = text.split(begin, 1)[1].split(end, 1)[0]
    try:
        blob = base64.b64decode("".join(body.split()), validate=True)
    except ValueError:
        return None
    return blob if blob.startswith(OPENSSH_MAGIC) else None


def _strings(data: bytes, count: int) -> list[bytes]:
    """Up to ``count`` SSH wire-format strings (uint32 length + bytes) from ``data``."""
    out: list[bytes] = []
    offset = 0
    while len(out) < count and offset + 4 <= len(data):
        (length,) = struct.unpack(">I", data[offset:offset + 4])
        if offset + 4 + length > len(data):
            break
        out.append(data[offset + 4:offset + 4 + length])
        offset += 4 + length
    return out


def inspect_key(path: Path) -> KeyFacts:
    """Read what :func:`judge_key` needs about ``path`` (follows a symlink, as ssh does)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return KeyFacts(path, "missing")
    except OSError:
        return KeyFacts(path, "unreadable")
    if stat.S_ISDIR(info.st_mode):
        return KeyFacts(path, "directory")
    if not stat.S_ISREG(info.st_mode):
        return KeyFacts(path, "other")
    try:
        with path.open("rb") as handle:
            head = handle.read(HEAD_BYTES).decode("ascii", errors="replace")
    except OSError:
        return KeyFacts(path, "unreadable")
    sibling = path.with_name(path.name + ".pub")
    try:
        public = read_input(sibling, HEAD_BYTES, "public key").decode("ascii", "replace") \
            if sibling.is_file() else ""
    except InputError:  # unreadable, or too large to be a public key
        public = ""
    return KeyFacts(path, "file", stat.S_IMODE(info.st_mode), info.st_uid, head, public)


def agent_key(facts: KeyFacts) -> tuple[paramiko.Agent, paramiko.PKey]:
    """The ssh-agent (``SSH_AUTH_SOCK``) and its copy of the key in ``facts``; close the agent
    after use. Raises :class:`SSHError` when the agent cannot be reached or lacks the key."""
    import paramiko  # lazy: validate without an agent needs no SSH stack

    from deepctl.errors import SSHError

    path = facts.path
    blob = public_blob(facts.head, facts.public_sibling)
    if blob is None:
        raise SSHError(f"cannot tell which ssh-agent key is {path}: it is not in OpenSSH's "
                       f"format and {path}.pub is missing",
                       hint="write its public key beside it: "
                       f"ssh-keygen -y -f {quote(str(path))} > {quote(f'{path}.pub')}",
                       reason="auth")
    agent = paramiko.Agent()
    for key in agent.get_keys():
        if key.asbytes() == blob:
            return agent, key
    agent.close()
    raise SSHError(f"SSH key {path} is protected by a passphrase and the ssh-agent at "
                   "SSH_AUTH_SOCK does not hold it", hint=f"ssh-add {quote(str(path))}", reason="auth")
