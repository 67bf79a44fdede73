"""Shared pytest configuration: the loopback SSH test-host harness and test isolation."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import typer.testing

from deepctl.cli.lazy_root import lazy_root

pytest_plugins = ["tests.harness.fixtures"]

# Typer's CliRunner builds every command up front (typer.main.get_command); the `deepctl`
# program builds only the one it runs (deepctl.cli.lazy_root). Tests run the app the way the
# program does; tests/cli/test_lazy_root.py compares the two builds command by command.
typer.testing._get_command = lazy_root


@pytest.fixture(autouse=True, scope="session")
def _session_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """deepctl's cache (``$XDG_CACHE_HOME/deepctl``: evaluated downloads, tree archives) is the
    test session's own: no test reads what an earlier run left in the user's cache, and none
    writes there."""
    before = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    yield
    if before is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = before
