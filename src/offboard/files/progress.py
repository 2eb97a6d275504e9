"""Progress of a stage: bytes and files against totals. Stages report, the caller decides what shows.

On a terminal `terminal_progress` draws a Rich bar (bytes, files, rate, time left); in a pipe or
CI it shows nothing. Stages call `advance` from several threads.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator, Protocol

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress as RichBar, TextColumn, TimeRemainingColumn, TransferSpeedColumn


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


@contextmanager
def terminal_progress(description: str, console: Console | None = None) -> Iterator[Progress]:
    """A progress bar while the block runs when stdout is a terminal; otherwise silence."""
    console = console or Console()
    if not console.is_terminal:
        yield Silent()
        return
    columns = (
        TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
        TextColumn("{task.fields[files]}/{task.fields[total_files]} files"), TransferSpeedColumn(), TimeRemainingColumn(),
    )
    with RichBar(*columns, console=console, transient=False) as bar:
        yield Bar(bar, description)
