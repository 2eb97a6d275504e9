"""`offboard stack ...`: a customer's bucket and scoped key, on Pulumi or the embedded endpoint."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from offboard.cli.by_hand import OutsideRunbook, Reason, by_hand
from offboard.cli.common import Backend, Stack, out

app = typer.Typer(no_args_is_help=True, help="A customer's bucket and scoped key (Pulumi or the embedded endpoint).")


def customer_and_backend(stack: str, backend_name: str | None):
    """The project, the stack file's values, and the backend the stack lives on (or is asked for)."""
    from offboard.customer import load_customer
    from offboard.infra import stacks
    from offboard.infra.provisioned import stack_backend
    from offboard.project import Project

    project = Project.find()
    customer = load_customer(project, stack)
    return project, customer, stacks.backend(project, stack_backend(project, stack, backend_name), on_output=print)


@app.command("up")
def stack_up(stack: Stack, backend: Backend = None) -> None:
    """Create or update the customer's bucket, group, user and key."""
    from offboard.customer import require_own_org
    from offboard.runtime import Runtime

    project, customer, chosen = customer_and_backend(stack, backend)
    require_own_org(project, customer)
    with Runtime(project, stack, chosen.name).changing():
        outputs = chosen.up(customer)
    out.print(f"stack {stack} is up: bucket {outputs.bucket}, key {outputs.access_key_id} ({chosen.name})")


@app.command("preview")
def stack_preview(stack: Stack, backend: Backend = None) -> None:
    """Show what `up` would create or change."""
    _, customer, chosen = customer_and_backend(stack, backend)
    table = Table("resource", "name", "operation", title=f"stack {stack} ({chosen.name})")
    for row in chosen.preview(customer):
        table.add_row(*row)
    out.print(table)


@app.command("outputs")
def stack_outputs(
    stack: Stack,
    backend: Backend = None,
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


@app.command("destroy")
def stack_destroy(stack: Stack, backend: Backend = None, outside_runbook: OutsideRunbook = False,
                  reason: Reason = None) -> None:
    """Remove the customer's resources (the bucket must be empty: teardown empties it); journaled,
    and refused while the runbook has a delivery under way unless --outside-runbook --reason."""
    from offboard.runtime import Runtime

    project, customer, chosen = customer_and_backend(stack, backend)

    def destroy() -> dict:
        with Runtime(project, stack, chosen.name).changing():
            chosen.destroy(customer)
        return {"destroyed": chosen.name}

    by_hand("stack destroy", stack, destroy, backend=chosen.name, outside_runbook=outside_runbook, reason=reason)
    out.print(f"stack {stack} destroyed ({chosen.name})")


@app.command("access-info")
def stack_access_info(
    stack: Stack,
    backend: Backend = None,
    stdout: Annotated[bool, typer.Option("--stdout", help="Print the text (it holds the secret) instead of its path.")] = False,
) -> None:
    """Render the S3 access information for the customer's Box folder into a 0600 file."""
    from offboard.infra import stacks

    project, customer, chosen = customer_and_backend(stack, backend)
    outputs = chosen.outputs(customer)
    if stdout:
        print(stacks.access_info(project, customer, outputs), end="")
    else:
        print(stacks.write_access_info(project, customer, outputs))
