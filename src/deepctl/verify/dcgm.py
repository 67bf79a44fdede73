"""Parse ``dcgmi diag -r LEVEL -j`` (DCGM 3.x ``"DCGM GPU Diagnostic"``; DCGM 4.x
``"DCGM Diagnostic"`` with per-entity results and a ``test_summary``).

Statuses are Pass, Fail, Warn, Skip (any case). A Fail anywhere fails the node; Warn and
Skip are reported, not failed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

ROOT_KEYS = ("DCGM GPU Diagnostic", "DCGM Diagnostic")


class DcgmParseError(ValueError):
    """The text is not a ``dcgmi diag -j`` document deepctl can read."""


@dataclass(frozen=True)
class DiagResult:
    category: str
    test: str
    status: str  # pass | fail | warn | skip | other, lower case
    gpus: str = ""  # "0,1" or "" (the whole node)
    message: str = ""  # warnings (what failed), else info


@dataclass(frozen=True)
class DiagReport:
    results: tuple[DiagResult, ...]

    @property
    def failed(self) -> tuple[DiagResult, ...]:
        return tuple(r for r in self.results if r.status == "fail")

    @property
    def passed(self) -> bool:
        return not self.failed

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)


def _text(value: Any) -> str:
    if isinstance(value, list):
        return "; ".join(_text(v) for v in value if _text(v))
    if isinstance(value, dict):
        return str(value.get("message") or value.get("warning") or "")
    return str(value or "").replace("\t", " ")


def _gpus(result: dict[str, Any]) -> str:
    if "gpu_ids" in result:
        return str(result["gpu_ids"])
    if "entity_id" in result:
        return str(result["entity_id"])
    return ""


def _results(category: str, test: dict[str, Any]) -> list[DiagResult]:
    name = str(test.get("name", "?"))
    out = []
    for result in test.get("results") or []:
        if not isinstance(result, dict):
            continue
        message = _text(result.get("warnings")) or _text(result.get("info"))
        out.append(DiagResult(category, name, str(result.get("status", "")).lower(),
                              _gpus(result), message))
    summary = test.get("test_summary")
    if not out and isinstance(summary, dict):
        out.append(DiagResult(category, name, str(summary.get("status", "")).lower()))
    return out


def parse_diag(text: str) -> DiagReport:
    """A :class:`DiagReport` from ``dcgmi diag -j``'s output (text around the JSON ignored)."""
    start, end = text.find("{"), text.rfind("}")
    try:
        data = json.loads(text[start:end + 1]) if start >= 0 else None
    except ValueError as exc:
        raise DcgmParseError(f"not JSON: {exc}") from None
    root = next((data[k] for k in ROOT_KEYS if isinstance(data, dict) and k in data), None)
    categories = root.get("test_categories") if isinstance(root, dict) else None
    if not isinstance(categories, list):
        raise DcgmParseError(f"no {' or '.join(repr(k) for k in ROOT_KEYS)} with test_categories")
    results: list[DiagResult] = []
    for category in categories:
        if not isinstance(category, dict):
            continue
        for test in category.get("tests") or []:
            if isinstance(test, dict):  # DCGM 3.1 prints null between some tests
                results.extend(_results(str(category.get("category", "?")), test))
    if not results:
        raise DcgmParseError("no test results")
    return DiagReport(tuple(results))
