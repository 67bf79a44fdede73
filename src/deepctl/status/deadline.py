"""One deadline for a piece of blocking I/O that has no overall timeout of its own.

A read timeout bounds each wait for a byte, so an API that trickles bytes is never timed out.
:func:`within` runs the work in a daemon thread and stops waiting at the deadline: the
caller gets :class:`DeadlineExceeded` (or Ctrl-C) at once, and ``abort`` is called to drop
the connections. A thread still blocked in a read ends when its socket does, or with the
process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class DeadlineExceeded(Exception):
    """The work did not finish before the deadline."""


def within(seconds: float, work: Callable[[], T], abort: Callable[[], None]) -> T:
    """``work()``'s result, if it finishes within ``seconds``; its exception if it raises."""
    result: list[T] = []
    error: list[BaseException] = []
    done = threading.Event()

    def run() -> None:
        try:
            result.append(work())
        except BaseException as exc:  # handed to the caller's thread below
            error.append(exc)
        finally:
            done.set()

    threading.Thread(target=run, name="deepctl-deadline", daemon=True).start()
    try:
        finished = done.wait(max(0.0, seconds))
    except BaseException:  # Ctrl-C while waiting: stop the work too
        abort()
        raise
    if not finished:
        abort()
        raise DeadlineExceeded
    if error:
        raise error[0]
    return result[0]
