"""Tables that never cut an identifier, on a terminal of any width and off one.

rich shrinks a table that is wider than the console, and a shrunk ``no_wrap`` cell ends in
"…": a run id that ``deepctl logs`` cannot be given, a node name that is gone. So:

- **off a terminal** (a pipe, a file) a table is printed at its natural width up to
  :data:`OFF_TERMINAL` (200) columns, whatever ``COLUMNS`` says; a wider one is split like
  on a terminal, and a cell still too wide (a description) wraps at its words: no line is
  wider than 200, no value is cut, and host lists are summarised (``names.summary``);
- **on a terminal** narrower than the table, the columns are split over several tables
  (:func:`split_columns`, pure), the identifying first column repeated in each, so every
  name stays whole and readable at any width.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # rich is imported when something is printed
    from rich.console import Console, RenderableType
    from rich.table import Table

OFF_TERMINAL = 200  # the width of a console off a terminal (a pipe, a file)
BORDER = 3  # a column's share of rich's box: "│ " + " "
EDGE = 1  # the closing "│"


def split_columns(widths: list[int], limit: int, keep: int = 1) -> list[list[int]]:
    """Pure: indices of the columns of each table so each fits ``limit`` cells.

    The first ``keep`` columns (the identifier) are in every table; the others keep their
    order. A column too wide to fit even alone with them gets a table of its own.
    """
    fixed = list(range(min(keep, len(widths))))
    base = EDGE + sum(widths[i] + BORDER for i in fixed)
    groups: list[list[int]] = []
    current: list[int] = []
    used = base
    for index in range(len(fixed), len(widths)):
        need = widths[index] + BORDER
        if current and used + need > limit:
            groups.append(fixed + current)
            current, used = [], base
        current.append(index)
        used += need
    if current or not groups:
        groups.append(fixed + current)
    return groups


def natural_widths(table: Table) -> list[int]:
    """The width each column of ``table`` needs to show every cell (and header) whole."""
    from rich.text import Text

    def width(cell: object) -> int:
        text = Text.from_markup(cell, emoji=False) if isinstance(cell, str) else cell
        if not isinstance(text, Text):
            return 0
        return max((line.cell_len for line in text.split("\n")), default=0)

    return [max([width(column.header), *(width(c) for c in column.cells)])
            for column in table.columns]


def fit(table: Table, limit: int, keep: int = 1) -> list[Table]:
    """``table`` as one or more tables, each at most ``limit`` cells wide (see module doc)."""
    from rich.table import Table

    widths = natural_widths(table)
    if EDGE + sum(w + BORDER for w in widths) <= limit:
        return [table]
    groups = split_columns(widths, limit, keep)
    cells = [list(column.cells) for column in table.columns]
    out = []
    for n, group in enumerate(groups):
        part = Table(title=table.title if n == 0 else None, title_justify=table.title_justify,
                     box=table.box, show_header=table.show_header)
        for index in group:
            column = table.columns[index]
            part.add_column(column.header, justify=column.justify, overflow="fold",
                            style=column.style, header_style=column.header_style)
        for row in range(table.row_count):
            part.add_row(*(cells[index][row] for index in group))
        out.append(part)
    return out


@contextmanager
def natural_width(console: Console) -> Iterator[None]:
    """Off a terminal, let everything printed inside take its natural width, up to
    :data:`OFF_TERMINAL` columns."""
    if console.is_terminal:
        yield
        return
    saved = console._width
    console.width = OFF_TERMINAL
    try:
        yield
    finally:
        console._width = saved


def tables_for(console: Console, table: Table, keep: int = 1) -> list[RenderableType]:
    """What to print for ``table`` on ``console`` (inside :func:`natural_width`): split to
    the terminal's width, or to :data:`OFF_TERMINAL` off one."""
    return list(fit(table, console.width if console.is_terminal else OFF_TERMINAL, keep))


def print_table(console: Console, table: Table, keep: int = 1) -> None:
    """Print ``table`` with every identifier whole (see module doc)."""
    with natural_width(console):
        for part in tables_for(console, table, keep):
            console.print(part)
