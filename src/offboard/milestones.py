"""When a long count is worth one more plain line: where no live bar can be drawn (a pipe, a CI
log) and in a step's log file. `offboard.files.progress.Lines` and `offboard.db.progress.RowLines`
write the lines."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Callable

EVERY_SECONDS = 10.0


class Milestones:
    """A line at the first report, at each further tenth of the total, and `every` seconds after the last one."""

    def __init__(self, every: float = EVERY_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.every, self.clock = every, clock
        self.restart()

    def restart(self) -> None:
        self.started = self.clock()
        self.last_line: float | None = None
        self.last_tenth = -1

    def due(self, fraction: float | None) -> bool:
        """Whether a line is due now, `fraction` being the share of the total done (None: no total)."""
        now = self.clock()
        tenth = self.last_tenth if fraction is None else int(fraction * 10)
        if self.last_line is None or tenth > self.last_tenth or now - self.last_line >= self.every:
            self.last_line, self.last_tenth = now, tenth
            return True
        return False

    def rate(self, done: float) -> float:
        """`done` per second since the start."""
        seconds = self.clock() - self.started
        return done / seconds if seconds > 0 else 0.0


def time_left(left: float, rate: float) -> str | None:
    """`left` at `rate` as H:MM:SS, or None when the rate says nothing yet."""
    return str(timedelta(seconds=round(left / rate))) if rate > 0 else None
