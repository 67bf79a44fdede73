"""Fixtures shared by the unit tests: small spec files written into a temporary directory."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.specs import MINIMAL_SPEC

SpecWriter = Callable[..., Path]


@pytest.fixture
def minimal_spec() -> str:
    return MINIMAL_SPEC


@pytest.fixture
def write_spec(tmp_path: Path) -> SpecWriter:
    """write_spec(text, name="cluster.yaml") -> path; text is dedented."""

    def write(text: str, name: str = "cluster.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write
