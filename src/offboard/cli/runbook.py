"""`offboard runbook ...`: the two deliveries, step by step, with their journal."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from offboard.cli.common import Backend, Stack, out, warn

app = typer.Typer(no_args_is_help=True, help="The two deliveries, step by step, with their journal.")
Workflow = Annotated[str, typer.Argument(help="initial or delta.")]
StepsJson = Annotated[bool, typer.Option("--json", help="A list with one object per step.")]


@app.command("render")
def runbook_render(stack: Stack, workflow: Workflow, backend: Backend = "pulumi") -> None:
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
def runbook_plan(stack: Stack, workflow: Workflow, backend: Backend = "pulumi", as_json: StepsJson = False) -> None:
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
    backend: Backend = "pulumi",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would run; change nothing.")] = False,
    until: Annotated[str | None, typer.Option(help="Stop after this step.")] = None,
) -> None:
    """Run the machine steps in order; stop at the first step a person must do."""
    from offboard.project import Project
    from offboard.runbook import commands as runbook

    report(runbook.run(Project.find(), stack, workflow, backend=backend, dry_run=dry_run, until=until))


@app.command("confirm")
def runbook_confirm(
    stack: Stack,
    step: Annotated[str, typer.Argument(help="The person's step that is done.")],
    by: Annotated[str, typer.Option("--by", help="Who confirms.")],
    note: Annotated[str | None, typer.Option(help="A note for the journal.")] = None,
    backend: Backend = "pulumi",
) -> None:
    """Record that a person's step is done; `run` then goes on."""
    from offboard.project import Project
    from offboard.runbook import commands as runbook

    report(runbook.confirm(Project.find(), stack, step, by=by, note=note, backend=backend))


@app.command("status")
def runbook_status(stack: Stack, workflow: Annotated[str | None, typer.Argument(help="initial, delta, or both.")] = None,
                   backend: Backend = "pulumi", as_json: StepsJson = False) -> None:
    """Where every step stands, from the journal."""
    from offboard.project import Project
    from offboard.runbook import commands as runbook
    from offboard.runbook import engine as runbook_engine
    from offboard.runbook import view as runbook_view

    views = runbook.status(Project.find(), stack, workflow, backend=backend)
    if as_json:
        print(json.dumps(runbook_engine.as_json(views), indent=2))
    else:
        out.print(runbook_view.steps_table(views))


@app.command("retry")
def runbook_retry(stack: Stack, step: Annotated[str, typer.Argument(help="The machine step to run again.")],
                  backend: Backend = "pulumi") -> None:
    """Run one machine step again, after a failure."""
    from offboard.project import Project
    from offboard.runbook import commands as runbook

    report(runbook.retry(Project.find(), stack, step, backend=backend))


def report(outcome) -> None:
    """What a runbook command did, the texts it wrote (paths only), and its exit status."""
    for step in outcome.steps if outcome.dry_run else []:
        out.print(f"would run {step}")
    for entry in outcome.entries:
        if entry.kind == "automated":
            out.print(f"ran {entry.step}: {entry.status} in {entry.duration} s {json.dumps(entry.figures)}")
    for text in outcome.texts:
        out.print(f"{text.audience} text for {text.step}: {text.path}")
    for warning in outcome.warnings:
        warn(warning)
    if not outcome.ok:
        from offboard.errors import OffboardError

        raise OffboardError(outcome.message)
    out.print(outcome.message)
