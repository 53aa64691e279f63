"""Tables for the terminal that stay readable at 80 columns and when piped.

A value is never cut to "Bianc…": text wraps between words (a word longer than its column
folds), numbers keep their width, and when the columns cannot all fit without breaking words,
the least useful ones are left out, lowest `drop` rank first, and the caption says which.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text


@dataclass(frozen=True)
class Column:
    """One column: its header; `number`: right-aligned and never broken; `drop`: may be left
    out when the table does not fit, lowest rank first (None: always shown)."""

    header: str
    number: bool = False
    drop: int | None = None


def fitted_table(
    console: Console,
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    *,
    title: str | None = None,
    hint: str = "",
    sections: Collection[int] = (),
) -> Table:
    """A table of `rows` (cells in rich markup) with the columns that fit `console`'s width;
    `hint` ends the caption that names the columns left out (e.g. "use --format json"); a line
    goes above each row whose index is in `sections`."""
    cells = [[Text.from_markup(cell) for cell in row] for row in rows]
    shown = list(range(len(columns)))
    droppable = sorted(
        (i for i, c in enumerate(columns) if c.drop is not None), key=lambda i: columns[i].drop or 0
    )
    while True:
        widths = _widths(
            console.width, [columns[i] for i in shown], [[r[i] for i in shown] for r in cells]
        )
        if widths is not None or not droppable:
            break
        shown.remove(droppable.pop(0))
    left_out = [columns[i].header for i in range(len(columns)) if i not in shown]
    caption = None
    if left_out:
        caption = f"Not shown, to fit the width: {', '.join(left_out)}" + (
            f"; {hint}" if hint else ""
        )
    table = Table(title=title, title_justify="left", caption=caption, caption_justify="left")
    for n, i in enumerate(shown):
        column = columns[i]
        table.add_column(
            column.header,
            justify="right" if column.number else "left",
            overflow="fold",
            width=None if widths is None else widths[n],
        )
    for n, row in enumerate(rows):
        if n in sections:
            table.add_section()
        table.add_row(*(row[i] for i in shown))
    return table


def _widths(
    total: int, columns: Sequence[Column], rows: Sequence[Sequence[Text]]
) -> list[int] | None:
    """Each column's text width when the table fits `total` columns without breaking a word or
    a number; None when it cannot. Every column gets its longest word; the room left goes first
    to showing each cell on one line, then each header."""
    room = total - 3 * len(columns) - 1  # a border and two spaces of padding per column
    least, body, whole = [], [], []
    for i, column in enumerate(columns):
        cells = [row[i].plain for row in rows]
        words = [cell_len(w) for w in column.header.split()]
        for cell in cells:
            words += [cell_len(cell)] if column.number else [cell_len(w) for w in cell.split()]
        least.append(max(words, default=1))
        body.append(max([least[-1], *(cell_len(cell) for cell in cells)]))
        whole.append(max(body[-1], cell_len(column.header)))
    if sum(least) > room:
        return None
    return _share(_share(least, body, room), whole, room)


def _share(widths: list[int], targets: list[int], room: int) -> list[int]:
    """`widths` grown toward `targets` within `room`, sharing fairly: a column that lacks little
    gets all it lacks, the others split what is left evenly."""
    grown = list(widths)
    wanting = sorted(
        (i for i in range(len(grown)) if grown[i] < targets[i]), key=lambda i: targets[i] - grown[i]
    )
    while wanting:
        share = (room - sum(grown)) // len(wanting)
        if share <= 0:
            break
        i = wanting.pop(0)
        grown[i] += min(share, targets[i] - grown[i])
    return grown
