"""`offboard init DIR`: an MSP's project folder, apart from the tool's checkout."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from offboard.cli.common import out


def init(folder: Annotated[Path, typer.Argument(help="The new project folder (new or empty).")]) -> None:
    """Make a project folder: Pulumi.yaml, stacks/ with the example, .gitignore for the state, README.md."""
    from offboard.scaffold import create_project

    project = create_project(folder)
    out.print(f"project {project.root}: copy stacks/Pulumi.example.yaml to stacks/Pulumi.<customer>.yaml, "
              f"then run offboard there (or set OFFBOARD_PROJECT={project.root})", highlight=False)
