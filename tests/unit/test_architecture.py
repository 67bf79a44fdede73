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
    assert "Contracts: 4 kept, 0 broken." in result.stdout


def test_an_upward_import_or_a_cycle_is_caught(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "src" / "deepctl", tmp_path / "src" / "deepctl",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    models = tmp_path / "src" / "deepctl" / "clusterspec" / "models.py"
    models.write_text(models.read_text() + "\nfrom deepctl.engine import runner  # noqa\n")
    result = lint_imports(tmp_path, tmp_path / "src")
    assert result.returncode != 0
    assert "deepctl.clusterspec is not allowed to import deepctl.engine" in result.stdout
    assert "deepctl.clusterspec.models -> deepctl.engine.runner" in result.stdout


def _layer_names() -> set[str]:
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    names: set[str] = set()
    for contract in config["tool"]["importlinter"]["contracts"]:
        for layer in contract.get("layers", []):
            for part in layer.replace(":", "|").split("|"):
                names.add(part.strip())
    return names


def test_every_module_of_the_kubespray_package_has_its_layer() -> None:
    """The kubespray package spans layers, so the exhaustive contract ignores it as a whole:
    each of its modules must be placed by name instead."""
    package = ROOT / "src" / "deepctl" / "kubespray"
    modules = {f"kubespray.{p.stem}" for p in package.glob("*.py") if p.stem != "__init__"}
    assert modules, "the kubespray package has no modules?"
    assert modules - _layer_names() == set()


def test_few_loose_modules_at_the_top() -> None:
    """Modules belong to packages that say what they are; the top keeps only the base."""
    top = sorted(p.stem for p in (ROOT / "src" / "deepctl").glob("*.py"))
    assert top == ["__init__", "__main__", "consoles", "entry", "errors", "fsutil", "init_spec",
                   "names", "shellwords", "state_guard", "templates", "user_input", "workspace"]


def test_no_two_modules_share_a_name_that_was_ambiguous() -> None:
    stems = [p.stem for p in (ROOT / "src" / "deepctl").rglob("*.py")]
    for name in ("inventory", "kubespray_downloads", "spec"):
        assert stems.count(name) <= 1, name
    assert not (ROOT / "src" / "deepctl" / "spec").exists()
