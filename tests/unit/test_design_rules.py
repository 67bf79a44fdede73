"""Rules of docs/architecture.md that a type checker cannot see, checked on the source.

- The engine knows no command: the generic engine (everything in ``engine/`` but the
  modules that build one command's :class:`Operation`) names no command and no stage.
- Every path to a state file comes from ``StateDir`` / ``RunDir`` (state/paths.py).
- The run record is a dataclass read through its fields, never as a loose dict.
- The dead code issue 23 listed stays gone.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from deepctl.stages.sequences import (
    DEPLOY_STAGE_NAMES,
    add_node_stages,
    remove_node_stages,
    reset_stages,
    upgrade_stages,
)

SRC = Path(__file__).resolve().parents[2] / "src" / "deepctl"
ENGINE = SRC / "engine"
# Where a command becomes an Operation (its stages, its ledger prefix, what it establishes):
# the only engine modules that may name a command.
COMMAND_OPERATIONS = {"deploy.py", "nodes.py", "batch.py", "lifecycle.py", "verify.py"}
COMMANDS = {"deploy", "add-node", "remove-node", "upgrade", "reset"}


def docstrings(tree: ast.AST) -> set[int]:
    """ids of the string constants that are docstrings (they may explain commands)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
    return out


def command_knowledge(path: Path) -> list[str]:
    """What ``path`` knows of particular commands or stages: string constants naming one,
    names of command-specific functions, imports of the command sequences."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    keys = {id(k) for n in ast.walk(tree) if isinstance(n, ast.Dict) for k in n.keys}
    skip = docstrings(tree) | keys  # a JSON key "kubespray" (the tree) names no stage
    stage_names = {*DEPLOY_STAGE_NAMES,
                   *(s.name for s in add_node_stages("n", ["worker"])),
                   *(s.name for s in remove_node_stages("n", False)),
                   *(s.name for s in upgrade_stages("1.0.0")), *(s.name for s in reset_stages())}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            words = set(re.findall(r"[a-z][a-z-]*", node.value))
            if node.value in COMMANDS | stage_names or words & COMMANDS:
                found.append(f"{path.name}:{node.lineno}: {node.value!r}")
        elif isinstance(node, ast.ImportFrom) and node.module == "deepctl.stages.sequences":
            found.append(f"{path.name}:{node.lineno}: imports the command sequences")
        elif isinstance(node, ast.Name | ast.Attribute):
            name = node.id if isinstance(node, ast.Name) else node.attr
            if re.search(r"deploy|add_node|remove_node|upgrade", name):
                found.append(f"{path.name}:{node.lineno}: {name}")
    return found


def test_the_generic_engine_names_no_command_and_no_stage() -> None:
    modules = sorted(p for p in ENGINE.glob("*.py") if p.name not in COMMAND_OPERATIONS)
    assert {p.name for p in modules} >= {"runner.py", "runplan.py", "session.py", "plan.py",
                                         "playbooks.py", "selection.py"}
    found = [line for path in modules for line in command_knowledge(path)]
    assert found == []


def test_the_check_catches_a_command_special_case(tmp_path: Path) -> None:
    bad = tmp_path / "session.py"
    bad.write_text('def done(op):\n    """Forget (not deploy)."""\n'
                   '    if op.command != "deploy":\n        return "inventory" in op.x\n')
    assert command_knowledge(bad) == ["session.py:3: 'deploy'", "session.py:4: 'inventory'"]


# Names of files and directories of the state directory and of a run's directory.
STATE_NAMES = {"stages.json", "runs", "facts", "facts-cache", "state.json", "known_hosts",
               "secrets", "inventory", "ansible.cfg", "env.json", "deepctl.log", "spec.yaml",
               "task-counts.json", "pending-nodes.json", "preflight-hosts.json", "lock", "ssh",
               "addons", "verify", "ansible", "kubespray-validate", "bastion-ssh.log",
               "artifacts", "credentials", "hosts.yaml", "list-tasks-extravars.json", ".deepctl"}
# Joins of those names that are not state paths, and why.
NOT_STATE = {
    ("ansible/settings.py", "ansible.cfg"),  # Kubespray's own ansible.cfg, in its tree
    ("artifacts/kubespray_items.py", "inventory"),  # a temporary directory
    # the job directory sent to the executor (and its artifacts back): not the state dir
    *(("executor/job.py", name) for name in ("inventory", "known_hosts", "artifacts",
                                              "credentials", "ansible.cfg")),
}
JOIN = re.compile(r"""/\s*["']([^"']+)["']""")


def hand_built_state_paths(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        if relative.startswith("state/"):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            for name in JOIN.findall(code):
                if name.split("/")[0] in STATE_NAMES and (relative, name) not in NOT_STATE:
                    found.append(f"{relative}:{number}: / {name!r}")
    return found


def test_no_state_path_is_built_outside_statedir() -> None:
    assert hand_built_state_paths(SRC) == []


def test_the_state_path_check_finds_a_hand_built_path(tmp_path: Path) -> None:
    (tmp_path / "engine").mkdir()
    (tmp_path / "engine" / "x.py").write_text('cfg = record.dir / "ansible.cfg"\n')
    assert hand_built_state_paths(tmp_path) == ["engine/x.py:1: / 'ansible.cfg'"]


# Keys of state.json that only state/run_state.py may read: elsewhere they are fields.
RECORD_KEYS = "remaining|duration_s|stages|stage_order|spec_path|spec_hash|failed_stage|timing"
LOOSE = re.compile(r"record\.data\b|\.data\[|\[[\"'](" + RECORD_KEYS + r")[\"']\]"
                   r"|\.get\([\"'](" + RECORD_KEYS + r")[\"']")


def loose_record_reads(root: Path) -> list[str]:
    return [f"{p.relative_to(root).as_posix()}:{n}" for p in sorted(root.rglob("*.py"))
            if not p.relative_to(root).as_posix().startswith("state/")
            for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
            if LOOSE.search(line.split("#", 1)[0])]


def test_the_run_record_is_read_through_typed_fields_only() -> None:
    assert loose_record_reads(SRC) == []
    # what reads run records gives the dataclass, so mypy refuses a dict read of one
    from typing import get_type_hints

    from deepctl.state import record, runs
    from deepctl.state.run_state import RunState
    assert get_type_hints(runs.read_state)["return"] is RunState
    assert get_type_hints(runs.read_all)["return"] == list[RunState]
    assert get_type_hints(record.last_run)["return"] == RunState | None
    assert get_type_hints(record.RunRecord)["run"] is RunState
    assert "data" not in get_type_hints(record.RunRecord)


def test_the_loose_read_check_finds_one(tmp_path: Path) -> None:
    (tmp_path / "engine").mkdir()
    (tmp_path / "engine" / "x.py").write_text(
        'a = last.get("spec_hash")\nb = run["stages"]\nc = record.data\n'
        'd = entry.get("name")  # a host entry: not the record\n')
    assert loose_record_reads(tmp_path) == ["engine/x.py:1", "engine/x.py:2", "engine/x.py:3"]


DEAD = {"kubevars/report.py": "kubespray_default", "addons/playbook.py": "addon_playbook_runs",
        "addons/registry.py": "release_versions", "fsutil.py": "write_if_changed",
        "addons/secrets.py": "read_secret_value", "artifacts/images.py": "layout_refs"}


def test_the_dead_code_stays_gone() -> None:
    for module, name in DEAD.items():
        tree = ast.parse((SRC / module).read_text(encoding="utf-8"))
        assert name not in {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}, name
    context = ast.parse((SRC / "stages" / "context.py").read_text(encoding="utf-8"))
    fields = {t.target.id for n in ast.walk(context) if isinstance(n, ast.ClassDef)
              for t in n.body if isinstance(t, ast.AnnAssign) and isinstance(t.target, ast.Name)}
    # PlanContext.params has its real readers: deploy --strict (preflight), verify --level,
    # add-node's host (the spec stage)
    assert "params" in fields
    readers = sorted(p.name for p in (SRC / "stages").glob("*.py")
                     if "ctx.params" in p.read_text(encoding="utf-8"))
    assert readers == ["preflight.py", "spec_change.py", "verify.py"]


def test_the_ssh_key_check_is_the_engines() -> None:
    """One place checks the keys before a command contacts hosts: the session
    (``run_operation``); add-node also before it writes the spec. No command does it."""
    callers = sorted(p.relative_to(SRC).as_posix() for p in SRC.rglob("*.py")
                     if "require_usable_keys(" in p.read_text(encoding="utf-8"))
    assert callers == ["engine/nodes.py", "engine/session.py", "preflight/run.py",
                       "ssh/spec_keys.py"]
