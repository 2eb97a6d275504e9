"""Progress of a stage: bytes and files against totals. Stages report, the caller decides what shows.

On a terminal `terminal_progress` draws a Rich bar (bytes, files, rate, time left); in a pipe or
CI it shows nothing, or plain lines when asked (`Lines`: what a runbook step shows and logs).
Stages call `advance` from several threads.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Callable, Iterator, Protocol

from rich.console import Console
from rich.filesize import decimal
from rich.progress import BarColumn, DownloadColumn, Progress as RichBar, TextColumn, TimeRemainingColumn, TransferSpeedColumn

from offboard.milestones import EVERY_SECONDS, Milestones, time_left


class Progress(Protocol):
    def start(self, total_bytes: int, total_files: int) -> None: ...

    def advance(self, bytes: int = 0, files: int = 0) -> None: ...


class Silent:
    def start(self, total_bytes: int, total_files: int) -> None:
        pass

    def advance(self, bytes: int = 0, files: int = 0) -> None:
        pass


class Counter:
    """Totals kept in memory: what a caller (or a test) reads after the stage."""

    def __init__(self) -> None:
        self.total_bytes = self.total_files = self.bytes = self.files = 0
        self._lock = threading.Lock()

    def start(self, total_bytes: int, total_files: int) -> None:
        self.total_bytes, self.total_files = total_bytes, total_files

    def advance(self, bytes: int = 0, files: int = 0) -> None:
        with self._lock:
            self.bytes += bytes
            self.files += files


class Bar:
    def __init__(self, bar: RichBar, description: str) -> None:
        self.bar = bar
        self.task = bar.add_task(description, total=None, files=0, total_files=0)
        self.files = 0
        self._lock = threading.Lock()

    def start(self, total_bytes: int, total_files: int) -> None:
        self.bar.update(self.task, total=total_bytes, total_files=total_files)

    def advance(self, bytes: int = 0, files: int = 0) -> None:
        with self._lock:
            self.files += files
            self.bar.update(self.task, advance=bytes, files=self.files)


class Lines:
    """Plain lines (`offboard.milestones`): bytes and files done of the totals, rate, time left."""

    def __init__(self, description: str, write: Callable[[str], None], every: float = EVERY_SECONDS) -> None:
        self.description, self.write = description, write
        self.milestones = Milestones(every)
        self.total_bytes = self.total_files = self.bytes = self.files = 0
        self._lock = threading.Lock()

    def start(self, total_bytes: int, total_files: int) -> None:
        with self._lock:  # a stage that starts again (one import per delivery) starts a new count
            self.total_bytes, self.total_files, self.bytes, self.files = total_bytes, total_files, 0, 0
            self.milestones.restart()
            self._report()

    def advance(self, bytes: int = 0, files: int = 0) -> None:
        with self._lock:
            self.bytes += bytes
            self.files += files
            self._report()

    def _report(self) -> None:
        shares = [done / total for done, total in ((self.bytes, self.total_bytes), (self.files, self.total_files)) if total]
        share = min(shares, default=None)  # the last file counts once its last bytes did
        if not self.milestones.due(share):
            return
        rate = self.milestones.rate(self.bytes)
        left = time_left(self.total_bytes - self.bytes, rate) if self.total_bytes > self.bytes else None
        self.write(f"{self.description}: " + (f"{int(share * 100)}%, " if share is not None else "")
                   + f"{decimal(self.bytes)} of {decimal(self.total_bytes)}, {self.files}/{self.total_files} files, "
                   + f"{decimal(round(rate))}/s" + (f", {left} left" if left else ""))


class Tee:
    """Each report to every one of `sinks`."""

    def __init__(self, *sinks: Progress) -> None:
        self.sinks = sinks

    def start(self, total_bytes: int, total_files: int) -> None:
        for sink in self.sinks:
            sink.start(total_bytes, total_files)

    def advance(self, bytes: int = 0, files: int = 0) -> None:
        for sink in self.sinks:
            sink.advance(bytes, files)


@contextmanager
def terminal_progress(description: str, console: Console | None = None,
                      lines: Callable[[str], None] | None = None) -> Iterator[Progress]:
    """A progress bar while the block runs when the console is a terminal; otherwise silence, or
    plain lines through `lines` when given."""
    console = console or Console()
    if not console.is_terminal:
        yield Lines(description, lines) if lines else Silent()
        return
    columns = (
        TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
        TextColumn("{task.fields[files]}/{task.fields[total_files]} files"), TransferSpeedColumn(), TimeRemainingColumn(),
    )
    with RichBar(*columns, console=console, transient=False) as bar:
        yield Bar(bar, description)
