"""The closed sets of words a state file may hold (checked by mypy, documented in docs/runs.md)."""

from __future__ import annotations

from typing import Literal, get_args

StageStatus = Literal["pending", "running", "succeeded", "failed", "canceled", "skipped",
                      "interrupted"]
RunResult = Literal["running", "succeeded", "failed", "canceled", "interrupted"]

STAGE_STATUSES: tuple[str, ...] = get_args(StageStatus)
RUN_RESULTS: tuple[str, ...] = get_args(RunResult)
SCHEMA_VERSION = 1
