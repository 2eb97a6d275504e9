"""`offboard runbook ...`: the two deliveries, step by step, with their journal."""

from __future__ import annotations

import functools
import json
import sys
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from offboard.cli.common import Backend, Stack, out, warn

app = typer.Typer(no_args_is_help=True, help="The two deliveries, step by step, with their journal.")
Workflow = Annotated[str, typer.Argument(help="initial or delta.")]
StepsJson = Annotated[bool, typer.Option("--json", help="A list with one object per step.")]
OutcomeJson = Annotated[bool, typer.Option("--json", help="One JSON object: reason, exit code, message, steps, "
                                                          "journal entries, texts, warnings.")]
By = Annotated[str, typer.Option("--by", help="Who.")]


@app.command("render")
def runbook_render(stack: Stack, workflow: Workflow, backend: Backend = None) -> None:
    """Write the Python module of every machine step, with this customer's values, for review."""
    from offboard.project import Project
    from offboard.runbook import commands as runbook

    project = Project.find()
    modules = runbook.render(project, stack, workflow, backend=backend)
    table = Table("step", "module", "sha256", "change", title=f"{workflow} modules of stack {stack}")
    for module in modules:
        style = "yellow" if module.change in ("changed", "inputs only", "edit replaced") else ""
        table.add_row(module.step, project.shown(module.path), module.sha256[:16], Text(module.change, style=style))
    out.print(table)
    out.print("review them (diff them against another stack's), then `offboard runbook run` runs exactly these")


@app.command("plan")
def runbook_plan(stack: Stack, workflow: Workflow, backend: Backend = None, as_json: StepsJson = False) -> None:
    """Every step of a delivery: who does it, and where it stands; open gates first."""
    from offboard.project import Project
    from offboard.runbook import commands as runbook
    from offboard.runbook import view as runbook_view

    plan = runbook.plan(Project.find(), stack, workflow, backend=backend)
    if as_json:
        print(json.dumps(plan.as_json(), indent=2))
    else:
        out.print(runbook_view.plan_view(plan))


@app.command("run")
def runbook_run(
    stack: Stack,
    workflow: Workflow,
    backend: Backend = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would run; change nothing.")] = False,
    until: Annotated[str | None, typer.Option(help="Stop after this step.")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="While the run waits on IBM, look again every --interval.")] = False,
    timeout: Annotated[float, typer.Option(help="With --wait: give up after this many seconds (0: never).", min=0)] = 0,
    interval: Annotated[float, typer.Option(help="With --wait: seconds between looks.")] = 60,
    as_json: OutcomeJson = False,
) -> None:
    """Run the machine steps in order; stop at the first step a person must do, or that waits on IBM.

    Exit 0: done, or stopped after --until; 3: waiting for a person; 4: waiting on IBM; 1: a step
    failed; 130: interrupted (run again to resume)."""
    from offboard.project import Project
    from offboard.runbook import commands as runbook

    say = functools.partial(print, file=sys.stderr if as_json else sys.stdout, flush=True)  # stdout holds only the JSON
    polling = runbook.Polling(timeout, interval, say) if wait else None
    report(runbook.run(Project.find(), stack, workflow, backend=backend, dry_run=dry_run, until=until, polling=polling),
           as_json)


@app.command("confirm")
def runbook_confirm(
    stack: Stack,
    step: Annotated[str, typer.Argument(help="The person's step that is done.")],
    by: By,
    note: Annotated[str | None, typer.Option(help="A note for the journal.")] = None,
    ref: Annotated[str | None, typer.Option(help="The case or ticket number it refers to, such as CS0012345.")] = None,
    out_of_order: Annotated[bool, typer.Option("--out-of-order", help="Confirm it before the steps ahead of it "
                                                                       "(with --reason).")] = False,
    reason: Annotated[str | None, typer.Option(help="Why, with --out-of-order; journaled and shown in the report.")] = None,
    backend: Backend = None,
    as_json: OutcomeJson = False,
) -> None:
    """Record that a person's step is done; `run` then goes on. Steps are confirmed in order."""
    from offboard.project import Project
    from offboard.runbook import commands as runbook

    report(runbook.confirm(Project.find(), stack, step, by=by, note=note, ref=ref, out_of_order=out_of_order,
                           reason=reason, backend=backend), as_json)


@app.command("revoke")
def runbook_revoke(
    stack: Stack,
    step: Annotated[str, typer.Argument(help="The person's step whose confirmation is undone.")],
    by: By,
    reason: Annotated[str, typer.Option(help="Why; journaled.")],
    backend: Backend = None,
    as_json: OutcomeJson = False,
) -> None:
    """Undo a confirmation by a journal line: the step, and every later step of its workflow that
    was done, are pending again."""
    from offboard.project import Project
    from offboard.runbook import commands as runbook

    report(runbook.revoke(Project.find(), stack, step, by=by, reason=reason, backend=backend), as_json)


@app.command("status")
def runbook_status(stack: Stack, workflow: Annotated[str | None, typer.Argument(help="initial, delta, or both.")] = None,
                   backend: Backend = None, as_json: StepsJson = False) -> None:
    """Where every step stands, from the journal."""
    from offboard.project import Project
    from offboard.runbook import commands as runbook
    from offboard.runbook import outcome as runbook_outcome
    from offboard.runbook import view as runbook_view

    views = runbook.status(Project.find(), stack, workflow, backend=backend)
    if as_json:
        print(json.dumps(runbook_outcome.as_json(views), indent=2))
    else:
        out.print(runbook_view.steps_table(views))


@app.command("retry")
def runbook_retry(stack: Stack, step: Annotated[str, typer.Argument(help="The machine step to run again.")],
                  backend: Backend = None, as_json: OutcomeJson = False) -> None:
    """Run one machine step again, after a failure."""
    from offboard.project import Project
    from offboard.runbook import commands as runbook

    report(runbook.retry(Project.find(), stack, step, backend=backend), as_json)


def report(outcome, as_json: bool) -> None:
    """What a runbook command did, the texts it wrote (paths only), and its exit code: a failure or
    an interruption is one line on stderr, a wait its message and exit 3 or 4."""
    if as_json:
        print(json.dumps(outcome.as_json(), indent=2))
    else:
        for step in outcome.steps if outcome.dry_run else []:
            out.print(f"would run {step}")
        for entry in outcome.entries:
            if entry.kind == "automated" and entry.status != "revoked":
                out.print(f"ran {entry.step}: {entry.status} in {entry.duration} s {json.dumps(entry.figures)}")
        for text in outcome.texts:
            out.print(f"{text.audience} text for {text.step}: {text.path}")
        for warning in outcome.warnings:
            warn(warning)
    if outcome.reason in ("failed", "interrupted"):
        raise outcome.error()
    if not as_json:
        out.print(outcome.message)
    if outcome.exit_code:
        raise typer.Exit(outcome.exit_code)
