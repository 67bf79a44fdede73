"""Replaying recorded ansible-runner events through the engine's ``Ansible.run``, no Ansible.

The replay stands in for ansible-runner only: ``deepctl.engine.playbooks.run_playbook`` is
swapped for a feed of recorded events for the duration of one call, so everything deepctl
does per event (progress model, run log, display) runs exactly as in a deploy.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from rich.console import Console

from deepctl.ansible.runner import PlaybookResult, PlaybookRun
from deepctl.engine import playbooks
from deepctl.engine.display import Display, JsonDisplay, LiveDisplay, PlainDisplay
from deepctl.engine.playbooks import Ansible
from deepctl.engine.signals import CancelToken
from deepctl.kubespray.source import KubesprayTree
from deepctl.state.record import start_run
from deepctl.workspace import Workspace, open_workspace

STAGE = "bench"
PLAYBOOK = "playbook.yml"


def engine(ws: Workspace, display: Display) -> Ansible:
    """The engine's Ansible runner for a fresh run record, as ``deepctl deploy`` makes it."""
    record = start_run(ws.state, "bench", ws.spec.path, "bench")
    tree = KubesprayTree(Path(str(ws.cluster.spec.kubespray.path)), "spec", "bench")
    return Ansible(ws, record, tree, display, CancelToken())


@contextlib.contextmanager
def replaying(events: list[dict[str, Any]]) -> Iterator[None]:
    """While active, a playbook "run" feeds ``events`` to the engine's handler and succeeds."""

    def replay_runner(run: PlaybookRun, on_event: Callable[[dict[str, Any]], None] | None,
                      should_cancel: Callable[[], bool] | None = None,
                      tools: object = None) -> PlaybookResult:
        assert on_event is not None
        for event in events:
            on_event(event)
        return PlaybookResult(0, "successful", {}, run.private_data_dir)

    real = playbooks.run_playbook
    playbooks.run_playbook = replay_runner  # type: ignore[assignment]
    try:
        yield
    finally:
        playbooks.run_playbook = real


def replay_rate(spec: Path, state: Path, feed: list[dict[str, Any]],
                display: Display) -> dict[str, float]:
    ansible = engine(open_workspace(spec, state), display)
    ansible.prepare()
    with replaying(feed):
        begun = time.perf_counter()
        ansible.run(STAGE, PLAYBOOK)
        elapsed = time.perf_counter() - begun
    display.close()
    return {"seconds": elapsed, "events_per_s": len(feed) / elapsed}


def replay_rates(spec: Path, state: Path, events: list[dict[str, Any]],
                 count: int) -> dict[str, dict[str, float]]:
    """Events/second through the pipeline with each display (all writing to /dev/null)."""
    if not events:
        raise SystemExit("no recorded events to replay")
    feed = list(itertools.islice(itertools.cycle(events), count))
    with open(os.devnull, "w", encoding="utf-8") as null:
        displays: dict[str, Callable[[], Display]] = {
            "plain lines (no terminal)": lambda: PlainDisplay(null),
            "json lines (--json)": lambda: JsonDisplay(null),
            "live view (null terminal)": lambda: LiveDisplay(
                Console(file=null, force_terminal=True, width=120, height=40)),
        }
        return {name: replay_rate(spec, state, feed, make()) for name, make in displays.items()}
