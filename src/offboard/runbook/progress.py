"""What a running machine step shows of its stage's progress (`Runtime.progress`).

On stderr, so that stdout stays for the result and `--json`: the stage commands' own bar
(`terminal_progress`, `terminal_rows`) titled with the step's id, or plain lines every 10 s
and 10% when stderr is no terminal (a log, a CI). Each report also goes to the step's log
(offboard.runbook.log), as a milestone every 10% or minute.
"""

from __future__ import annotations

from contextlib import ExitStack, contextmanager
from typing import Callable, ContextManager, Iterator, TypeVar

from rich.console import Console

from offboard.db.progress import RowLines, terminal_rows
from offboard.db.scan import Progress as RowsProgress
from offboard.files.progress import Lines, Tee, terminal_progress

LOG_EVERY_SECONDS = 60.0
Shown = TypeVar("Shown")


class StepProgress:
    """A stage's progress (`offboard.runtime.StageProgress`), one display at a time: the
    verify step, say, checks files (a bar of bytes) and then rows (a line of rows)."""

    def __init__(self, title: str, console: Console, log: Callable[[str], None]) -> None:
        self.title, self.console, self.log = title, console, log
        self.shown = ExitStack()

    def files(self) -> Tee:
        display = self.show(terminal_progress(self.title, self.console, lines=self.say))
        return Tee(display, Lines(self.title, self.log, every=LOG_EVERY_SECONDS))

    def rows(self) -> RowsProgress:
        display = self.show(terminal_rows(self.title, self.console, lines=self.say))
        logged = RowLines(self.title, self.log, every=LOG_EVERY_SECONDS)

        def both(table: str, rows: int) -> None:
            display(table, rows)
            logged(table, rows)

        return both

    def show(self, display: ContextManager[Shown]) -> Shown:
        self.shown.close()  # the previous display ends where it stood
        return self.shown.enter_context(display)

    def say(self, line: str) -> None:
        self.console.print(line, markup=False, highlight=False, soft_wrap=True)


@contextmanager
def step_progress(title: str, log: Callable[[str], None], console: Console | None = None) -> Iterator[StepProgress]:
    """The progress of the step `title` while the block runs."""
    progress = StepProgress(title, console or Console(stderr=True), log)
    with progress.shown:
        yield progress
