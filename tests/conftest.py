"""Shared pytest configuration: the loopback SSH test-host harness and test isolation."""

from __future__ import annotations

pytest_plugins = ["tests.harness.fixtures"]
