"""Preflight findings grouped across hosts: one line for "192 hosts: swap is on". Pure.

A finding whose text (status, group, message, fix) is the same on several hosts is shown
once under those hosts; findings of one host only stay under that host.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from deepctl.preflight.model import Finding, HostResult

Key = tuple[str, str, str, str | None]


@dataclass
class FindingGroup:
    """The hosts sharing these findings (spec order) and the findings (host of the first)."""

    hosts: list[HostResult]
    findings: list[Finding] = field(default_factory=list)


def group_notable(hosts: list[HostResult]) -> list[FindingGroup]:
    """Non-ok findings, each once, under the set of hosts that have it (first-seen order)."""
    holders: dict[Key, list[HostResult]] = {}
    first: dict[Key, Finding] = {}
    for host in hosts:
        for finding in host.findings:
            if finding.status == "ok":
                continue
            key: Key = (finding.status, finding.group, finding.message, finding.hint)
            members = holders.setdefault(key, [])
            if not members or members[-1] is not host:
                members.append(host)
            first.setdefault(key, finding)
    groups: dict[tuple[str, ...], FindingGroup] = {}
    for shared, sharing in holders.items():
        names = tuple(h.name for h in sharing)
        groups.setdefault(names, FindingGroup(sharing)).findings.append(first[shared])
    return list(groups.values())
