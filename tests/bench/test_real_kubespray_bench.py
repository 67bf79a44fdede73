"""Smoke-run bench/real_kubespray.py cheaply (``--plan``: hosts up, commands built, none run)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.real_kubespray_support import real_kubespray_tree, skip_reason

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(os.geteuid() != 0, reason="the benchmark starts isolated sshd test hosts (root)")
def test_real_kubespray_benchmark_sets_up_every_way() -> None:
    tree = real_kubespray_tree()
    if tree is None:
        pytest.skip(skip_reason())
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "real_kubespray.py"), "--plan", "--hosts", "2",
         "--tree", str(tree)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("deepctl: ") and "deploy" in line and "--only kubespray" in line
               for line in lines), result.stdout
    stock = next(line for line in lines if line.startswith("stock (Kubespray's ansible.cfg): "))
    assert f"(cd {tree} && " in stock and "ansible-playbook -i" in stock and "cluster.yml" in stock
    assert any(line.startswith("deepctl + mitogen_linear: ") for line in lines)
