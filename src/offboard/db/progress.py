"""Progress of a database stage: rows per table, as stages report them (`offboard.db.scan.Progress`).

On a terminal `terminal_rows` draws a Rich line (the table being read or written, rows so far
in all tables, rate, time spent); in a pipe or CI it shows nothing, or plain lines when asked
(`RowLines`: what a runbook step shows and logs).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import Progress as RichBar
from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

from offboard.db.scan import Progress
from offboard.milestones import EVERY_SECONDS, Milestones


class RowsSoFar:
    """Rows so far over every table: a stage reports each table's own count as it grows."""

    def __init__(self) -> None:
        self.table: str | None = None
        self.finished = self.current = 0  # rows of the tables done, and of the one in hand

    def add(self, table: str, rows: int) -> int:
        if table != self.table:
            self.table, self.finished = table, self.finished + self.current
        self.current = rows
        return self.finished + rows


class RowsLine:
    def __init__(self, bar: RichBar, description: str) -> None:
        self.bar = bar
        self.task = bar.add_task(description, total=None, table="")
        self.rows = RowsSoFar()

    def __call__(self, table: str, rows: int) -> None:
        self.bar.update(self.task, completed=self.rows.add(table, rows), table=table)


class RowLines:
    """Plain lines (`offboard.milestones`; a stage knows no total of rows): rows so far, rate, table."""

    def __init__(self, description: str, write: Callable[[str], None], every: float = EVERY_SECONDS) -> None:
        self.description, self.write = description, write
        self.milestones = Milestones(every)
        self.rows = RowsSoFar()

    def __call__(self, table: str, rows: int) -> None:
        done = self.rows.add(table, rows)
        if self.milestones.due(None):
            self.write(f"{self.description}: {done:,} rows, {self.milestones.rate(done):,.0f} rows/s, in {table}")


@contextmanager
def terminal_rows(description: str, console: Console | None = None,
                  lines: Callable[[str], None] | None = None) -> Iterator[Progress | None]:
    """A progress line while the block runs when the console is a terminal; otherwise None
    (silence), or plain lines through `lines` when given."""
    console = console or Console()
    if not console.is_terminal:
        yield RowLines(description, lines) if lines else None
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed:,.0f} rows"),
               TextColumn("[dim]{task.fields[table]}"), TimeElapsedColumn())
    with RichBar(*columns, console=console, transient=False) as bar:
        yield RowsLine(bar, description)
