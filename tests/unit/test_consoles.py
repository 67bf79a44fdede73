"""Issue 22: user text is shown exactly as given, never read as emoji codes or markup.

Structural guards over ``src/deepctl`` (so new code cannot regress): every rich console
comes from :func:`deepctl.consoles.make_console` (emoji off), and every value put into
deepctl's markup is escaped. The CLI tests (tests/cli/test_exact_text.py) show the result.
"""

from __future__ import annotations

import ast
from pathlib import Path

from rich.text import Text

from deepctl.consoles import escape, make_console

SRC = Path(__file__).resolve().parents[2] / "src" / "deepctl"
HOSTILE = ["fd00:a:b::1", "root:x:0:0", ":smile:", "[red]x[/red]", "a\\[b]"]

# Calls whose string arguments rich reads as markup (and, with emoji on, emoji codes).
MARKUP_METHODS = {"print", "add_row", "add_column", "from_markup"}
MARKUP_CLASSES = {"Table", "Panel"}
MARKUP_KEYWORDS = {"title", "caption", "subtitle", "description"}
# Calls whose result is safe to put into markup: escaped text or a rich renderable.
SAFE_CALLS = {"escape", "Text", "Group", "Table", "Panel", "len", "counted"}
# Values deepctl itself produces (numbers, its own markup constants, text escaped a line
# above, renderables), by file: reviewed. Add to it only what no user, host or API sets.
NOT_USER_TEXT: dict[str, set[str]] = {
    "cli/support.py": {"style"},
    "cli/commands/deploy.py": {"duration", "str(i)", "str(len(names))", "what", "decision"},
    "cli/commands/node_options.py": {"left"},
    "cli/commands/preflight.py": {
        "*marks", "MARKS[c.status]",
        "LABELS[finding.status]", "LABELS[host.status]", "report.seconds", "counts['ok']",
        "counts['warning']", "counts['error']", "*cells", "group", "label"},
    "cli/commands/runs.py": {"style[run.result]", "count", "column", "result", "done"},
    # a level is one of verify's LEVELS, checked before anything is printed
    "cli/commands/verify.py": {"level", "chosen"},
    # grouped rows: a status word, GPU counts and the expected figure deepctl computes
    "cli/commands/status.py": {"render(report, ws, console, all_nodes)", "grouped", "g.status",
                           "g.gpus", "str(g.in_use)", "g.expected",
                           "render(report, ws, console)", "style", "mark", "*cells", "screen",
                           "column", "name", "status", "*(escape(c) for c in _gpu_cells(node))",
                           "'\\n'.join(lines)"},
    "engine/display.py": {"notice.kind", "bar", "item.kind"},
    "cli/commands/validate.py": {"_classes_note(check)"},
    # the executor's check marks and column headers are deepctl's own
    "cli/commands/executor.py": {"column", "MARKS[c.status]"},
    # tables.py copies cells and titles that were checked where the table was made
    "cli/tables.py": {"cell", "part", "*(cells[index][row] for index in group)", "table.title",
                  "column.header"},
}


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _unsafe(expr: ast.expr) -> list[ast.expr]:
    """The parts of ``expr`` that may carry unescaped text into markup."""
    if isinstance(expr, ast.Constant):
        return []
    if isinstance(expr, ast.JoinedStr):
        return [part for value in expr.values if isinstance(value, ast.FormattedValue)
                for part in _unsafe(value.value)]
    if isinstance(expr, ast.Call) and _name(expr.func) in SAFE_CALLS:
        return []
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        return _unsafe(expr.left) + _unsafe(expr.right)
    if isinstance(expr, ast.BoolOp):
        return [part for value in expr.values for part in _unsafe(value)]
    if isinstance(expr, ast.IfExp):
        return _unsafe(expr.body) + _unsafe(expr.orelse)
    return [expr]


def unescaped_values() -> list[str]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        text = path.read_text(encoding="utf-8")
        if "rich" not in text and "stdout()" not in text and "stderr()" not in text:
            continue
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.Call):
                continue
            name = _name(node.func)
            args: list[ast.expr] = []
            if name in MARKUP_METHODS and isinstance(node.func, ast.Attribute):
                args = list(node.args)
            if name in MARKUP_METHODS | MARKUP_CLASSES:
                args += [k.value for k in node.keywords if k.arg in MARKUP_KEYWORDS]
            for arg in args:
                for part in _unsafe(arg):
                    source = ast.unparse(part)
                    if source not in NOT_USER_TEXT.get(rel, set()):
                        found.append(f"{rel}:{node.lineno}: {name}(): {source}")
    return found


def test_every_value_in_markup_is_escaped() -> None:
    """A value printed through rich's markup is ``escape(...)``d or a rich Text."""
    assert unescaped_values() == []


def test_every_rich_console_comes_from_make_console() -> None:
    """No ``Console(...)`` but the one in consoles.py (emoji codes and highlighting off)."""
    made = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and _name(node.func) == "Console":
                keywords = {k.arg: k.value for k in node.keywords}
                emoji = keywords.get("emoji")
                off = isinstance(emoji, ast.Constant) and emoji.value is False
                made.append((path.relative_to(SRC).as_posix(), off))
    assert made == [("consoles.py", True)]


def test_console_shows_user_text_exactly(tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    with out.open("w", encoding="utf-8") as stream:
        console = make_console(file=stream)
        for value in HOSTILE:
            console.print(f"[bold]value:[/] {escape(value)}")
            console.print(Text(value))
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines == [line for value in HOSTILE for line in (f"value: {value}", value)]


def test_every_text_from_markup_has_emoji_codes_off() -> None:
    """``Text.from_markup`` reads emoji codes unless told not to, whatever the console says."""
    calls = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and _name(node.func) == "from_markup":
                emoji = {k.arg: k.value for k in node.keywords}.get("emoji")
                calls.append((path.relative_to(SRC).as_posix(),
                              isinstance(emoji, ast.Constant) and emoji.value is False))
    assert calls and all(off for _, off in calls), calls
