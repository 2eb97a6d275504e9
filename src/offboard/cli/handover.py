"""`offboard runbook handover`: the folder IBM runs a delivery's export from, on its side."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from offboard.cli.common import Backend, Stack, out


def handover(
    stack: Stack,
    workflow: Annotated[str, typer.Argument(help="initial or delta.")],
    folder: Annotated[Path, typer.Argument(help="A new or empty folder to write into.")],
    backend: Backend = None,
) -> None:
    """Write what IBM needs to run this delivery's export modules on its side; never a secret."""
    from offboard.project import Project
    from offboard.runbook.handover import INSTRUCTIONS, handover as write

    written = write(Project.find(), stack, workflow, folder, backend=backend)
    for path in written:
        out.print(str(path))
    out.print(f"give the folder to IBM (read {folder / INSTRUCTIONS} first); the bucket's key goes through the Box folder only")
