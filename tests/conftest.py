"""Shared pytest configuration: the loopback SSH test-host harness and test isolation."""

from __future__ import annotations

import typer.testing

from deepctl.cli.lazy_root import lazy_root

pytest_plugins = ["tests.harness.fixtures"]

# Typer's CliRunner builds every command up front (typer.main.get_command); the `deepctl`
# program builds only the one it runs (deepctl.cli.lazy_root). Tests run the app the way the
# program does; tests/cli/test_lazy_root.py compares the two builds command by command.
typer.testing._get_command = lazy_root
