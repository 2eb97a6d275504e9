"""Progress: a bar on a terminal, silence in a pipe."""

from __future__ import annotations

import io

from rich.console import Console

from offboard.files.progress import Silent, terminal_progress


def test_in_a_pipe_nothing_is_shown():
    out = io.StringIO()
    with terminal_progress("export", Console(file=out)) as progress:
        progress.start(100, 2)
        progress.advance(bytes=100, files=2)
    assert isinstance(progress, Silent) and out.getvalue() == ""


def test_on_a_terminal_bytes_files_and_rate_are_shown():
    out = io.StringIO()
    with terminal_progress("export", Console(file=out, force_terminal=True, width=120)) as progress:
        progress.start(2 * 1024 * 1024, 3)
        progress.advance(bytes=2 * 1024 * 1024, files=3)
    shown = out.getvalue()
    assert "export" in shown and "3/3 files" in shown and "2.1/2.1 MB" in shown
