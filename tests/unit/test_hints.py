"""Issue 22: every hint runs as printed: a deepctl command in a message names the real spec
path, shell-quoted (shellwords.deepctl_command), never a placeholder such as ``SPEC``.

Walks ``src/deepctl`` so that a new hint cannot regress."""

from __future__ import annotations

import ast
import re
import shlex
from pathlib import Path

from deepctl.shellwords import deepctl_command

SRC = Path(__file__).resolve().parents[2] / "src" / "deepctl"
# Help texts and docstrings describe usage with placeholders; messages must not.
HELP_MODULES = {"cli/application.py", "cli/metavars.py"}
VERBS = ("init", "validate", "deploy", "preflight", "status", "runs", "logs", "vars", "import",
         "reset", "upgrade", "add-node", "remove-node", "kubeconfig", "artifacts", "kubespray",
         "schema", "verify", "executor")
# A placeholder in a deepctl command, quoted in backticks or not ("run: deepctl deploy SPEC").
PLACEHOLDER = re.compile(
    rf"`deepctl [^`]*?\b(SPEC|DIR|FILE|PATH|NAME|ADDRESS)\b"
    rf"|\bdeepctl (?:{'|'.join(VERBS)})\b[^`'\";\n]*?(?<![-\w])(SPEC|DIR|FILE|PATH|NAME|ADDRESS)\b")
# "deepctl VERB " right before an interpolated value: the value is not quoted.
UNQUOTED = re.compile(rf"deepctl (?:{'|'.join(VERBS)})(?: [a-z-]+)? ?$")


def _messages() -> list[tuple[str, int, ast.JoinedStr | ast.Constant]]:
    out = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel in HELP_MODULES:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                      if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef)
                      and node.body and isinstance(node.body[0], ast.Expr)}
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr | ast.Constant) and id(node) not in docstrings:
                out.append((rel, node.lineno, node))
    return out


def test_no_hint_names_a_placeholder_instead_of_the_spec() -> None:
    found = [f"{rel}:{line}" for rel, line, node in _messages()
             if isinstance(node, ast.Constant) and isinstance(node.value, str)
             and PLACEHOLDER.search(node.value)]
    assert found == []


def test_the_placeholder_scan_sees_commands_with_and_without_backticks() -> None:
    assert PLACEHOLDER.search("run `deepctl deploy SPEC --yes`")
    assert PLACEHOLDER.search("then run: deepctl deploy SPEC --yes")
    assert PLACEHOLDER.search("deepctl artifacts pull x.yaml --dest DIR")
    assert not PLACEHOLDER.search("deepctl deploy /srv/c.yaml --yes")
    assert not PLACEHOLDER.search("deepctl deploy c.yaml --state-dir /x; the SPEC is read once")


def test_no_deepctl_command_interpolates_a_value_unquoted() -> None:
    found = []
    for rel, line, node in _messages():
        if not isinstance(node, ast.JoinedStr):
            continue
        for before, after in zip(node.values, node.values[1:], strict=False):
            if (isinstance(before, ast.Constant) and isinstance(after, ast.FormattedValue)
                    and UNQUOTED.search(str(before.value))):
                found.append(f"{rel}:{line}: {ast.unparse(node)[:100]}")
    assert found == []


def test_deepctl_command_quotes_what_a_shell_would_split() -> None:
    spec = Path("/srv/my specs/it's $HOME.yaml")
    command = deepctl_command("deploy", spec, "--only", "verify")
    assert shlex.split(command) == ["deepctl", "deploy", str(spec), "--only", "verify"]
    assert deepctl_command("preflight", Path("/srv/c.yaml")) == "deepctl preflight /srv/c.yaml"


def test_the_status_nodes_hint_names_the_spec_quoted() -> None:
    from deepctl.cli.commands.status import all_nodes
    from deepctl.errors import UsageError

    spec = Path("/srv/my specs/c.yaml")
    try:
        all_nodes(spec, "some", False)
    except UsageError as error:
        command = (error.hint or "").split("`")[1]
        assert shlex.split(command) == ["deepctl", "status", str(spec), "--nodes", "all"]
    else:
        raise AssertionError("--nodes some was accepted")
