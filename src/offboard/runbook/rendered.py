"""What a rendered runbook module imports: its header, and how it runs.

A rendered module (see `offboard.runbook.modules`) holds a `STEP` header and a `run(runtime)`
that calls one stage with the customer's values. The runbook engine executes it through
`execute`. Run by hand, `python <module>.py` asks the engine to run that one step (so it is
gated, checked against its rendering and journaled like any other), and `--dry-run` executes
the stage read-only here. Every way shows the stage's progress on stderr and logs the step in
the stack's log file (offboard.runbook.progress, offboard.runbook.log), and refuses a module
whose stack file changed since it was rendered (or whose catalog or fix-up rules did): it
would no longer run what was reviewed.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from offboard.errors import OffboardError, one_line_on_error
from offboard.files.hashing import sha256_file
from offboard.project import Project
from offboard.runbook.log import logged_step
from offboard.runbook.progress import step_progress
from offboard.runtime import Runtime

Run = Callable[[Runtime], Any]


@dataclass(frozen=True)
class RenderedStep:
    stack: str
    backend: str
    workflow: str
    step: str
    rendered_from: dict[str, str]  # project file -> sha256: the stack file, and what the stage reads besides


def check_inputs(header: RenderedStep, project: Project) -> None:
    """Refuse once a file the module was rendered from, or its stage reads, changed since."""
    for name, sha256 in header.rendered_from.items():
        path = project.root / name
        if not path.is_file() or sha256_file(path) != sha256:
            raise OffboardError(f"{name} changed since step {header.step} was rendered: "
                                f"run `offboard runbook render {header.stack} {header.workflow}` and review the modules again")


def execute(header: RenderedStep, run: Run, project: Project, dry_run: bool = False) -> dict[str, Any]:
    """Run the module's stage, its progress on stderr and in the stack's log with its outcome; its
    figures for the journal (a report's own `figures()` when it has one)."""
    check_inputs(header, project)
    with logged_step(project, header.stack, header.workflow, header.step, header.backend, dry_run) as log, \
            step_progress(header.step, log.milestone) as progress:
        result = run(Runtime(project, header.stack, header.backend, dry_run=dry_run, progress=progress))
        figures = figures_of(result)
        log.done(figures)
    return figures


def figures_of(result: Any) -> dict[str, Any]:
    """A stage's figures: its mapping, or a report's own `figures()`."""
    return dict(result) if isinstance(result, Mapping) else result.figures()


def main(header: RenderedStep, run: Run, module_file: str) -> None:
    """`python <module>.py [--dry-run]`: the one step by hand; its figures as JSON, or one scrubbed error line."""
    from offboard.runbook import commands  # the engine, which in turn loads this module

    parser = argparse.ArgumentParser(description=f"Step {header.step} of the {header.workflow} delivery of stack "
                                                 f"{header.stack}, run alone and journaled.")
    parser.add_argument("--dry-run", action="store_true", help="Say what the step would do; change nothing.")
    options = parser.parse_args()
    with one_line_on_error(header.step):
        project = Project.find(Path(module_file).resolve().parent)
        if options.dry_run:
            figures = execute(header, run, project, dry_run=True)
        else:
            outcome = commands.run_step(project, header.stack, header.step, backend=header.backend)
            for warning in outcome.warnings:
                print(f"{header.step}: warning: {warning}", file=sys.stderr)
            if not outcome.ok:
                raise outcome.error()  # the module exits as `offboard` does: 1 failed, 4 waiting on IBM, 130 interrupted
            figures = outcome.entries[-1].figures
    print(json.dumps(figures, indent=2, default=str))
