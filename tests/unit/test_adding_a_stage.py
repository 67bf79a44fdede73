"""docs/architecture.md, "Adding a stage", followed word for word on a copy of the tree: the
example stage (a real file, docs/examples/stage/) is its module, its test and one line in
DEPLOY (no import: the line names the stage by its module); nothing else changes, and the
stage is planned, type-checked and tested."""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from deepctl.stages.stage import stage_at

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "stage"
DOC = ROOT / "docs" / "architecture.md"
LINE = '    stage_at("refresh_facts:REFRESH_FACTS"),\n'
AFTER = '    stage_at("kubespray:KUBESPRAY"),\n'
BIN = Path(sys.executable).parent
SPEC = """\
apiVersion: deepctl/v1alpha1
kind: Cluster
metadata: {name: lab}
spec:
  hosts:
    - {name: cp1, address: 192.0.2.11, roles: [control-plane, etcd, worker]}
    - {name: wk1, address: 192.0.2.21, roles: [worker]}
  addons: {gpu: {enabled: false}}
"""


def python_blocks(text: str) -> list[str]:
    section = text[text.index("### Adding a stage"):]
    section = section[:section.index("\n## ")]
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


def test_the_docs_example_is_the_real_file() -> None:
    blocks = python_blocks(DOC.read_text(encoding="utf-8"))
    assert blocks[0] == (EXAMPLE / "refresh_facts.py").read_text(encoding="utf-8")
    assert blocks[1] == LINE
    assert blocks[2] == (EXAMPLE / "test_refresh_facts.py").read_text(encoding="utf-8")
    assert AFTER.strip() in DOC.read_text(encoding="utf-8")


def digests(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and "__pycache__" not in p.parts
            and ".mypy_cache" not in p.parts}


def copy_tree(dest: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(ROOT / "src", dest / "src", ignore=ignore)
    shutil.copytree(ROOT / "templates", dest / "templates", ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", dest / "pyproject.toml")
    for name in ("__init__.py", "specs.py", "unit/__init__.py", "unit/conftest.py",
                 "unit/test_stage_runner.py", "unit/test_addon_order.py"):
        (dest / "tests" / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "tests" / name, dest / "tests" / name)


def run(argv: list[str], cwd: Path, tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": f"{tree / 'src'}{os.pathsep}{tree}", "COLUMNS": "200"}
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=500,
                          check=False)


def test_adding_the_example_stage_is_its_module_its_test_and_one_line(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    copy_tree(tree)
    before = digests(tree)
    shutil.copy(EXAMPLE / "refresh_facts.py", tree / "src/deepctl/stages/refresh_facts.py")
    shutil.copy(EXAMPLE / "test_refresh_facts.py", tree / "tests/unit/test_refresh_facts.py")
    sequences = tree / "src/deepctl/stages/sequences.py"
    text = sequences.read_text(encoding="utf-8")
    assert text.count(AFTER) == 1
    new_text = text.replace(AFTER, AFTER + LINE)
    sequences.write_text(new_text, encoding="utf-8")
    # exactly one line of sequences.py changed: the one added
    diff = [line for line in difflib.ndiff(text.splitlines(True), new_text.splitlines(True))
            if line[:2] in ("+ ", "- ")]
    assert diff == ["+ " + LINE]
    after = digests(tree)
    assert {k for k in after if before.get(k) != after[k]} == {
        "src/deepctl/stages/refresh_facts.py", "tests/unit/test_refresh_facts.py",
        "src/deepctl/stages/sequences.py"}

    work = tmp_path / "work"
    work.mkdir()
    (work / "cluster.yaml").write_text(SPEC, encoding="utf-8")
    plan = run([sys.executable, "-m", "deepctl", "deploy", "cluster.yaml", "--dry-run", "--json"],
               work, tree)
    assert plan.returncode == 0, plan.stderr
    stages = {s["name"]: s for s in json.loads(plan.stdout)["stages"]}
    names = list(stages)
    assert names.index("kubespray") < names.index("refresh-facts") < names.index("kubeconfig")
    assert stages["refresh-facts"]["runs"] and stages["refresh-facts"]["reason"] == "never ran"
    assert stages["refresh-facts"]["hosts"] == ["cp1", "wk1"]
    assert "playbooks/facts.yml" in json.loads(plan.stdout)["playbooks"]

    tests = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                 "tests/unit/test_refresh_facts.py", "tests/unit/test_stage_runner.py",
                 "tests/unit/test_addon_order.py"], tree, tree)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    mypy = run([str(BIN / "mypy"), "--cache-dir", str(tmp_path / "mypy-cache")], tree, tree)
    assert mypy.returncode == 0, mypy.stdout + mypy.stderr
    layers = run([str(BIN / "lint-imports"), "--no-cache"], tree, tree)
    assert layers.returncode == 0, layers.stdout + layers.stderr


def test_a_sequence_line_that_names_no_stage_fails_at_once() -> None:
    assert stage_at("kubespray:KUBESPRAY").name == "kubespray"
    with pytest.raises(TypeError, match="kubespray:PLAYBOOK is a str, not a Stage"):
        stage_at("kubespray:PLAYBOOK")
    with pytest.raises(AttributeError):
        stage_at("kubespray:NO_SUCH_STAGE")
