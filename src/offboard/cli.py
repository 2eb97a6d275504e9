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

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Move one customer organization out of IBM Connections Cloud.")
stack_app = typer.Typer(no_args_is_help=True, help="A customer's bucket and scoped key (Pulumi or the embedded endpoint).")
local_app = typer.Typer(no_args_is_help=True, help="The embedded S3/IAM endpoint on 127.0.0.1.")
app.add_typer(stack_app, name="stack")
app.add_typer(local_app, name="local")

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


def main() -> None:
    """Run the CLI: a user's mistake is one line on stderr and exit 1, never a traceback."""
    try:
        app()  # usage errors are Typer's own: a message and exit 2
    except OffboardError as error:
        print(f"offboard: {error}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
