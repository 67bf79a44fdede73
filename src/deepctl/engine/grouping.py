"""The same event on many hosts, said once: ``RETRY gpu[0001-0998] (998 hosts): ...``.

Pure but for the times it is given. Kubespray prints a retry, a failure or an unreachable
host once per host: 4,000 lines for one download retried on 1,000 hosts. A
:class:`NoticeGrouper` holds such a notice for ``window`` seconds from the first host that
had it; the same notice (same kind, same text but the host) from other hosts in that window
joins it, and the group comes out as one line with the hosts summarised (``names.summary``).
Anything else (a new task or play) first lets out every group held, so the order of the
output stays the order of the run. The run's log keeps every host's line (the engine logs
each notice before the display sees it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from deepctl.engine.progress import Notice
from deepctl.names import summary

GROUPED = frozenset({"retry", "failed", "unreachable"})
WINDOW_S = 5.0


@dataclass(frozen=True)
class NoticeGroup:
    """One notice shared by ``hosts`` (in the order they had it)."""

    stage: str
    kind: str
    text: str  # the notice's text without its host
    hosts: tuple[str, ...]

    def who(self) -> str:
        if len(self.hosts) == 1:
            return self.hosts[0]
        return f"{summary(list(self.hosts), counted=False)} ({len(self.hosts)} hosts)"

    def line(self) -> str:
        """``gpu[0001-0998] (998 hosts): Download item: attempt 2 of 5 failed, retrying``"""
        return f"{self.who()}: {self.text}"


Out = tuple[str, Notice | NoticeGroup]  # (stage, what to show)


def without_host(notice: Notice) -> str | None:
    """The text of a per-host notice without its ``host: `` prefix (None: not per host)."""
    if notice.kind not in GROUPED or not notice.host:
        return None
    prefix = f"{notice.host}: "
    return notice.text[len(prefix):] if notice.text.startswith(prefix) else None


@dataclass
class _Open:
    since: float
    stage: str
    kind: str
    text: str
    hosts: dict[str, None] = field(default_factory=dict)


@dataclass
class NoticeGrouper:
    window: float = WINDOW_S
    held: dict[tuple[str, str, str], _Open] = field(default_factory=dict)

    def add(self, stage: str, notice: Notice, now: float) -> list[Out]:
        """What to show now that ``notice`` came: groups whose window is over, then, for a
        notice that is not grouped, every group held and the notice itself."""
        out: list[Out] = list(self.due(now))
        text = without_host(notice)
        if text is None:
            out.extend(self.flush())
            out.append((stage, notice))
            return out
        key = (stage, notice.kind, text)
        group = self.held.get(key)
        if group is None:
            group = self.held[key] = _Open(now, stage, notice.kind, text)
        group.hosts[str(notice.host)] = None
        return out

    def due(self, now: float) -> list[Out]:
        """The groups held for ``window`` seconds or more, in the order they were opened."""
        keys = [k for k, g in self.held.items() if now - g.since >= self.window]
        return [self._close(k) for k in keys]

    def flush(self) -> list[Out]:
        """Every group held, in the order they were opened."""
        return [self._close(k) for k in list(self.held)]

    def next_due(self) -> float | None:
        """When the oldest group held is due (None: nothing held)."""
        return min((g.since for g in self.held.values()), default=None)

    def _close(self, key: tuple[str, str, str]) -> Out:
        g = self.held.pop(key)
        return g.stage, NoticeGroup(g.stage, g.kind, g.text, tuple(g.hosts))
