"""Fixtures shared by the unit tests: small spec files written into a temporary directory."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

# The smallest valid spec: one host with every role, no GPU addon (so no warning).
MINIMAL_SPEC = """\
apiVersion: deepctl/v1alpha1
kind: Cluster
metadata:
  name: lab
spec:
  hosts:
    - name: cp1
      address: 192.0.2.11
      roles: [control-plane, etcd, worker]
  addons:
    gpu: {enabled: false}
"""

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
