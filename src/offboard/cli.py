"""The `offboard` command: parse, call one function, print. No logic of its own."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from offboard.customer import load_customer
from offboard.demo import DEMO_STACK, run_demo
from offboard.errors import OffboardError
from offboard.infra import endpoint as local_endpoint
from offboard.infra import stacks
from offboard.project import Project
from offboard.runbook import commands as runbook
from offboard.runbook import engine as runbook_engine
from offboard.runbook import view as runbook_view

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Move one customer organization out of IBM Connections Cloud.")
stack_app = typer.Typer(no_args_is_help=True, help="A customer's bucket and scoped key (Pulumi or the embedded endpoint).")
local_app = typer.Typer(no_args_is_help=True, help="The embedded S3/IAM endpoint on 127.0.0.1.")
app.add_typer(stack_app, name="stack")
runbook_app = typer.Typer(no_args_is_help=True, help="The two deliveries, step by step, with their journal.")
app.add_typer(local_app, name="local")
app.add_typer(runbook_app, name="runbook")

out = Console()
Stack = Annotated[str, typer.Argument(help="The stack: stacks/Pulumi.<stack>.yaml.")]
Backend = Annotated[str, typer.Option("--backend", "-b", envvar="OFFBOARD_BACKEND",
                                      help="pulumi (AWS, via the Pulumi CLI) or local (the embedded endpoint).")]


def customer_and_backend(stack: str, backend_name: str):
    project = Project.find()
    return project, load_customer(project, stack), stacks.backend(project, backend_name, on_output=print)


@stack_app.command("up")
def stack_up(stack: Stack, backend: Backend = "pulumi") -> None:
    """Create or update the customer's bucket, group, user and key."""
    _, customer, chosen = customer_and_backend(stack, backend)
    outputs = chosen.up(customer)
    out.print(f"stack {stack} is up: bucket {outputs.bucket}, key {outputs.access_key_id} ({chosen.name})")


@stack_app.command("preview")
def stack_preview(stack: Stack, backend: Backend = "pulumi") -> None:
    """Show what `up` would create or change."""
    _, customer, chosen = customer_and_backend(stack, backend)
    table = Table("resource", "name", "operation", title=f"stack {stack} ({chosen.name})")
    for row in chosen.preview(customer):
        table.add_row(*row)
    out.print(table)


@stack_app.command("outputs")
def stack_outputs(
    stack: Stack,
    backend: Backend = "pulumi",
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
    show_secrets: Annotated[bool, typer.Option("--show-secrets", help="Include the secret access key.")] = False,
) -> None:
    """Print the stack's outputs; the secret only with --show-secrets."""
    _, customer, chosen = customer_and_backend(stack, backend)
    shown = chosen.outputs(customer).shown(show_secrets)
    if as_json:
        print(json.dumps(shown, indent=2, sort_keys=True))
        return
    table = Table("output", "value", title=f"stack {stack} ({chosen.name})")
    for key, value in shown.items():
        table.add_row(key, "" if value is None else str(value))
    out.print(table)


@stack_app.command("destroy")
def stack_destroy(stack: Stack, backend: Backend = "pulumi") -> None:
    """Remove the customer's resources (the bucket must be empty: teardown empties it)."""
    _, customer, chosen = customer_and_backend(stack, backend)
    chosen.destroy(customer)
    out.print(f"stack {stack} destroyed ({chosen.name})")


@stack_app.command("access-info")
def stack_access_info(
    stack: Stack,
    backend: Backend = "pulumi",
    stdout: Annotated[bool, typer.Option("--stdout", help="Print the text (it holds the secret) instead of its path.")] = False,
) -> None:
    """Render the S3 access information for the customer's Box folder into a 0600 file."""
    project, customer, chosen = customer_and_backend(stack, backend)
    outputs = chosen.outputs(customer)
    if stdout:
        print(stacks.access_info(project, customer, outputs), end="")
    else:
        print(stacks.write_access_info(project, customer, outputs))


@local_app.command("start")
def local_start() -> None:
    """Start the embedded endpoint in the background (reuses a running one)."""
    endpoint = local_endpoint.start(Project.find().state_dir / "local")
    out.print(f"embedded endpoint running at {endpoint.url} (pid {endpoint.pid})")


@local_app.command("stop")
def local_stop() -> None:
    """Stop the embedded endpoint; everything on it is gone."""
    stopped = local_endpoint.stop(Project.find().state_dir / "local")
    out.print("embedded endpoint stopped" if stopped else "no embedded endpoint was running")


@local_app.command("status")
def local_status() -> None:
    """Say whether the embedded endpoint runs, and where."""
    endpoint = local_endpoint.running(Project.find().state_dir / "local")
    out.print(f"embedded endpoint running at {endpoint.url} (pid {endpoint.pid})")


@app.command("demo")
def demo(
    workdir: Annotated[Path, typer.Option(help="Where the demo keeps its state.")] = Path(".offboard/demo"),
) -> None:
    """Provision the example customer on the embedded endpoint and prove what its key can do."""
    result = run_demo(Project.find(), workdir)
    out.print(f"provisioned stack {DEMO_STACK} on the embedded endpoint: bucket {result.outputs.bucket}, "
              f"key {result.outputs.access_key_id}; neighbour bucket {result.neighbour_bucket}")
    table = Table("what the key tried", "expected", "result", "", title="the customer's key, tried for real (IAM enforced)")
    for check in result.checks:
        table.add_row(check.action, "allowed" if check.expected else "refused",
                      "allowed" if check.allowed else "refused", "ok" if check.ok else "[red]WRONG[/red]")
    out.print(table)
    out.print(f"S3 access information for the Box folder (0600): {result.access_info}")
    if not result.ok:
        raise OffboardError("the key's permissions are not what they must be")
    out.print("[green]demo passed[/green]: the key reaches its bucket and nothing else")


Workflow = Annotated[str, typer.Argument(help="initial or delta.")]
AsJson = Annotated[bool, typer.Option("--json", help="A list with one object per step.")]


@runbook_app.command("plan")
def runbook_plan(stack: Stack, workflow: Workflow, backend: Backend = "pulumi", as_json: AsJson = False) -> None:
    """Every step of a delivery: who does it, and where it stands; open gates first."""
    plan = runbook.plan(Project.find(), stack, workflow, backend=backend)
    if as_json:
        print(json.dumps(plan.as_json(), indent=2))
    else:
        out.print(runbook_view.plan_view(plan))


@runbook_app.command("run")
def runbook_run(
    stack: Stack,
    workflow: Workflow,
    backend: Backend = "pulumi",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would run; change nothing.")] = False,
    until: Annotated[str | None, typer.Option(help="Stop after this step.")] = None,
) -> None:
    """Run the machine steps in order; stop at the first step a person must do."""
    report(runbook.run(Project.find(), stack, workflow, backend=backend, dry_run=dry_run, until=until))


@runbook_app.command("confirm")
def runbook_confirm(
    stack: Stack,
    step: Annotated[str, typer.Argument(help="The person's step that is done.")],
    by: Annotated[str, typer.Option("--by", help="Who confirms.")],
    note: Annotated[str | None, typer.Option(help="A note for the journal.")] = None,
    backend: Backend = "pulumi",
) -> None:
    """Record that a person's step is done; `run` then goes on."""
    report(runbook.confirm(Project.find(), stack, step, by=by, note=note, backend=backend))


@runbook_app.command("status")
def runbook_status(stack: Stack, workflow: Annotated[str | None, typer.Argument(help="initial, delta, or both.")] = None,
                   backend: Backend = "pulumi", as_json: AsJson = False) -> None:
    """Where every step stands, from the journal."""
    views = runbook.status(Project.find(), stack, workflow, backend=backend)
    if as_json:
        print(json.dumps(runbook_engine.as_json(views), indent=2))
    else:
        out.print(runbook_view.steps_table(views))


@runbook_app.command("retry")
def runbook_retry(stack: Stack, step: Annotated[str, typer.Argument(help="The machine step to run again.")],
                  backend: Backend = "pulumi") -> None:
    """Run one machine step again, after a failure."""
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
        print(f"offboard: warning: {warning}", file=sys.stderr)
    if not outcome.ok:
        raise OffboardError(outcome.message)
    out.print(outcome.message)


def main() -> None:
    """Run the CLI: a user's mistake is one line on stderr and exit 1, never a traceback."""
    try:
        app()  # usage errors are Typer's own: a message and exit 2
    except OffboardError as error:
        print(f"offboard: {error}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
