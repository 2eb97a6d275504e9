"""Progress of a database stage: rows per table, as stages report them (`offboard.db.scan.Progress`).

On a terminal `terminal_rows` draws a Rich line (the table being read or written, rows so far
in all tables, rate, time spent); in a pipe or CI it shows nothing.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from rich.console import Console
from rich.progress import Progress as RichBar
from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

from offboard.db.scan import Progress


class RowsLine:
    """Rows so far over every table: a stage reports each table's own count as it grows."""

    def __init__(self, bar: RichBar, description: str) -> None:
        self.bar = bar
        self.task = bar.add_task(description, total=None, table="")
        self.table: str | None = None
        self.finished = self.current = 0  # rows of the tables done, and of the one in hand

    def __call__(self, table: str, rows: int) -> None:
        if table != self.table:
            self.table, self.finished, self.current = table, self.finished + self.current, 0
        self.current = rows
        self.bar.update(self.task, completed=self.finished + rows, table=table)


@contextmanager
def terminal_rows(description: str, console: Console | None = None) -> Iterator[Progress | None]:
    """A progress line while the block runs when stdout is a terminal; otherwise None (silence)."""
    console = console or Console()
    if not console.is_terminal:
        yield None
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed:,.0f} rows"),
               TextColumn("[dim]{task.fields[table]}"), TimeElapsedColumn())
    with RichBar(*columns, console=console, transient=False) as bar:
        yield RowsLine(bar, description)
