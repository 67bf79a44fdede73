"""status/deadline.within: a result in time, the work's own error, or the deadline."""

from __future__ import annotations

import threading
import time

import pytest

from deepctl.status.deadline import DeadlineExceeded, within


def test_result_error_and_deadline() -> None:
    aborted: list[bool] = []
    assert within(5, lambda: 42, abort=lambda: aborted.append(True)) == 42

    def fail() -> int:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        within(5, fail, abort=lambda: aborted.append(True))
    assert aborted == []
    release = threading.Event()
    begun = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        within(0.2, lambda: release.wait(30), abort=lambda: (aborted.append(True), release.set()))
    assert time.monotonic() - begun < 5 and aborted == [True]
