"""The progress bar's total when no earlier run of a playbook is known: ``--list-tasks``.

``ansible-playbook --list-tasks`` parses the playbook and the inventory without contacting
a host (about 1 s for a small playbook, about 5 s for Kubespray's ``cluster.yml``). It runs
in the background, beside the real run, so it never delays it; the total appears once it is
known. Tasks of dynamic includes are not listed, so the total is a close estimate (the bar
stops at 100 %), replaced by the real count after the playbook's first successful run.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

LIST_TIMEOUT_S = 120.0


def count_listed_tasks(output: str) -> int | None:
    """Tasks in ``ansible-playbook --list-tasks`` output (pure); None when no play is listed."""
    plays = tasks = 0
    in_tasks = False
    for line in output.splitlines():
        text = line.strip()
        if text.startswith("play #"):
            plays += 1
            in_tasks = False
        elif text == "tasks:":
            in_tasks = True
        elif in_tasks and text:
            tasks += 1
    return tasks if plays else None


def list_tasks_argv(binary: str, playbook: Path, inventory: Path, *, limit: str | None = None,
                    extravars_file: Path | None = None) -> list[str]:
    """The ``--list-tasks`` command line (pure); extra variables only by file, never inline."""
    argv = [binary, "-i", str(inventory), "--list-tasks", str(playbook)]
    if limit:
        argv += ["--limit", limit]
    if extravars_file is not None:
        argv += ["-e", f"@{extravars_file}"]
    return argv


class TaskCounter:
    """``--list-tasks`` in the background; ``on_total(n)`` is called from its thread."""

    def __init__(self, argv: list[str], env: Mapping[str, str], cwd: Path,
                 on_total: Callable[[int], None]) -> None:
        self._proc = subprocess.Popen(
            argv, cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True, start_new_session=True)
        with contextlib.suppress(OSError):  # an estimate: never compete with the real run
            os.setpriority(os.PRIO_PROCESS, self._proc.pid, 10)
        self._thread = threading.Thread(target=self._wait, args=(on_total,), daemon=True,
                                        name="deepctl-list-tasks")
        self._thread.start()

    def _wait(self, on_total: Callable[[int], None]) -> None:
        try:
            output, _ = self._proc.communicate(timeout=LIST_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.stop()
            self._proc.communicate()
            return
        except (OSError, ValueError):
            return
        total = count_listed_tasks(output) if self._proc.returncode == 0 else None
        if total:
            on_total(total)

    def stop(self) -> None:
        """Kill it if it still runs (the playbook finished first, or was canceled)."""
        if self._proc.poll() is None:
            with contextlib.suppress(OSError):
                os.killpg(self._proc.pid, signal.SIGKILL)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)
