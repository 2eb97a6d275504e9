"""How every stage command runs by hand: journaled like a runbook step, and refused while the
runbook has a delivery under way unless the operator says why (offboard.runbook.by_hand).
Only typer loads here, as in offboard.cli.common."""

from __future__ import annotations

from typing import Annotated, Callable, TypeVar

import typer

from offboard.cli.common import warn

Result = TypeVar("Result")
OutsideRunbook = Annotated[bool, typer.Option(
    "--outside-runbook", help="Run it although the runbook has begun a delivery; needs --reason, journaled.")]
Reason = Annotated[str | None, typer.Option("--reason", help="Why it runs by hand; written into the journal.")]


def by_hand(words: str, stack: str, stage: Callable[[], Result], *, backend: str | None, args: dict[str, str] | None = None,
            flags: tuple[str, ...] = (), changes: bool = True, outside_runbook: bool = False, reason: str | None = None,
            dry_run: bool = False) -> Result:
    """Run `stage`, the work of `offboard <words> <stack>` with `args` (named as the runbook steps'
    args), as a journaled hand run; `changes` false for a verification, which is never refused."""
    from offboard.project import Project
    from offboard.runbook.by_hand import HandCommand, run_by_hand

    command = HandCommand(words, stack, args or {}, flags, changes)
    return run_by_hand(Project.find(), command, stage, backend=backend,  # None: the stack's own (run_by_hand resolves it)
                       outside_runbook=outside_runbook, reason=reason, dry_run=dry_run, warn=warn)
