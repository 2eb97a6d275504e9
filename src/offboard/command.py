"""The console script `offboard`: a Ctrl-C while the command line is still loading ends in one
line too, as every later one does (offboard.errors.one_line_on_error)."""

from __future__ import annotations

import sys

from offboard.errors import EXIT_INTERRUPTED, INTERRUPTED


def main() -> None:
    try:
        from offboard.cli import main as run_command_line
    except KeyboardInterrupt:
        print(f"offboard: {INTERRUPTED}", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    run_command_line()
