"""The layer rules of docs/architecture.md, enforced: no upward import, no import cycle.

The contracts live in pyproject.toml ([tool.importlinter]); ``lint-imports`` checks them on
the real package, and once more on a copy with one upward import added, to show the check
can fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(cwd: Path, python_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(python_path)}
    return subprocess.run([str(LINT_IMPORTS), "--config", str(cwd / "pyproject.toml"),
                           "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def test_layers_and_no_cycles_hold() -> None:
    result = lint_imports(ROOT, ROOT / "src")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken." in result.stdout


def test_an_upward_import_or_a_cycle_is_caught(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "src" / "deepctl", tmp_path / "src" / "deepctl",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    models = tmp_path / "src" / "deepctl" / "spec" / "models.py"
    models.write_text(models.read_text() + "\nfrom deepctl.engine import runner  # noqa\n")
    result = lint_imports(tmp_path, tmp_path / "src")
    assert result.returncode != 0
    assert "deepctl.spec is not allowed to import deepctl.engine" in result.stdout
    assert "deepctl.spec.models -> deepctl.engine.runner" in result.stdout
