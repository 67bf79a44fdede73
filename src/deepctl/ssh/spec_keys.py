"""Every SSH key a spec names, checked once on this machine, reported at FILE:LINE.

Run before the first connection (``preflight``, ``deploy``) so that a key OpenSSH would refuse
is one error with its fix, not one per host; ``validate`` shows the same as warnings.
The judging itself is :mod:`deepctl.ssh.keyfile`.
"""

from __future__ import annotations

import os
from pathlib import Path

from deepctl.clusterspec.loader import LoadedSpec, format_path
from deepctl.clusterspec.models import Cluster
from deepctl.clusterspec.yamlpos import Positions, YamlPositionError, parse_with_positions
from deepctl.errors import Severity, SpecError, SpecProblem
from deepctl.ssh.keyfile import KeyFacts, KeyVerdict, agent_key, inspect_key, judge_key

PathKey = tuple[str | int, ...]


def resolve_key(path: Path, base_dir: Path | None) -> Path:
    """``~`` expanded; a relative path is relative to the spec's directory (``base_dir``)."""
    path = path.expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return path


def key_fields(cluster: Cluster, base_dir: Path | None) -> dict[Path, list[PathKey]]:
    """Pure: every key file the spec uses (resolved) -> the fields that name it, in order."""
    ssh = cluster.spec.ssh
    uses: dict[Path, list[PathKey]] = {}

    def add(path: Path, where: PathKey) -> None:
        uses.setdefault(resolve_key(path, base_dir), []).append(where)

    if any(h.ssh.identity_file is None for h in cluster.spec.hosts) or (
            ssh.bastion is not None and ssh.bastion.identity_file is None):
        add(ssh.identity_file, ("spec", "ssh", "identityFile"))
    if ssh.bastion is not None and ssh.bastion.identity_file is not None:
        add(ssh.bastion.identity_file, ("spec", "ssh", "bastion", "identityFile"))
    for i, host in enumerate(cluster.spec.hosts):
        if host.ssh.identity_file is not None:
            add(host.ssh.identity_file, ("spec", "hosts", i, "ssh", "identityFile"))
    return uses


def agent_socket() -> str | None:
    """The ssh-agent socket deepctl may use (``SSH_AUTH_SOCK``), or None."""
    return os.environ.get("SSH_AUTH_SOCK") or None


def key_problems(cluster: Cluster, base_dir: Path | None) -> list[tuple[KeyVerdict, PathKey]]:
    """Every unusable key of the spec, once each, with the first field that names it."""
    agent = agent_socket() is not None
    out = []
    for path, fields in key_fields(cluster, base_dir).items():
        facts = inspect_key(path)
        verdict = judge_key(facts, uid=os.getuid(), agent=agent)
        if verdict.encrypted and verdict.problem is None:
            verdict = _agent_verdict(facts)
        if verdict.problem is not None:
            out.append((verdict, fields[0]))
    return out


def _agent_verdict(facts: KeyFacts) -> KeyVerdict:
    """A passphrase-protected key is usable when ssh-agent holds it."""
    from deepctl.errors import SSHError  # the SSH stack, only for such a key

    try:
        agent_key(facts)[0].close()
    except SSHError as exc:
        return KeyVerdict(facts.path, exc.message, exc.hint, encrypted=True)
    return KeyVerdict(facts.path, encrypted=True)


def key_spec_problems(spec: LoadedSpec, severity: Severity = "error") -> list[SpecProblem]:
    """Every unusable key of ``spec`` (missing ones too) as a problem at FILE:LINE of the
    field naming it: ``validate`` shows them as warnings, errors under ``--strict``."""
    found = key_problems(spec.cluster, spec.directory)
    positions = _positions(spec.text) if found else None
    problems = []
    for verdict, where in found:
        mark = positions.find(where) if positions is not None else None
        problems.append(SpecProblem(format_path(where), f"{verdict.problem}; fix: {verdict.fix}",
                                    severity, str(spec.path), mark[0] if mark else None,
                                    mark[1] if mark else None))
    return problems


def require_usable_keys(spec: LoadedSpec) -> None:
    """Raise one :class:`SpecError` (FILE:LINE per key) when a key of the spec is unusable.

    Run once before the first connection, so a bad key is one message, not one per host.
    """
    problems = key_spec_problems(spec)
    if not problems:
        return
    many = len(problems) > 1
    first = problems[0].message.split("; fix: ", 1)
    raise SpecError(
        f"{len(problems)} SSH keys named in the spec cannot be used" if many
        else "the SSH key named in the spec cannot be used",
        problems,
        hint="fix each key listed above, then rerun" if many else f"{first[-1]}, then rerun",
    )


def _positions(text: str) -> Positions | None:
    try:
        return parse_with_positions(text)[1]
    except YamlPositionError:
        return None
