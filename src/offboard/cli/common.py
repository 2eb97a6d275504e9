"""What every command group shares: the console, the argument types, and how a stage command
finds its stack. Only typer and rich load here: `offboard --help` must stay fast, so each
command imports the project's heavier modules (SQLAlchemy, boto3, Pulumi) when it runs."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from offboard.customer import Customer
    from offboard.runtime import Runtime

out = Console(width=None if sys.stdout.isatty() else 160)  # pipes and logs: no cramped tables
Stack = Annotated[str, typer.Argument(help="The stack: stacks/Pulumi.<stack>.yaml.")]
Backend = Annotated[str | None, typer.Option(
    "--backend", "-b", envvar="OFFBOARD_BACKEND", show_default=False,
    help="pulumi (AWS, via the Pulumi CLI) or local (the embedded endpoint). Default: the one the stack was "
         "provisioned on; before that, pulumi. Another than the stack's own is refused.")]
AsJson = Annotated[bool, typer.Option("--json", help="The result as JSON.")]
Target = Annotated[str, typer.Option("--target", help="staging or production.")]


def warn(message: str) -> None:
    print(f"offboard: warning: {message}", file=sys.stderr)


def stage_of(stack: str, backend_name: str | None, dry_run: bool = False) -> tuple[Runtime, Customer, str]:
    """What a stage command needs: the runtime (on the stack's own backend unless another is
    asked, which is refused once the stack is provisioned), the stack file's values, and the bucket."""
    from offboard.customer import load_customer
    from offboard.infra.policies import bucket_name
    from offboard.infra.provisioned import stack_backend
    from offboard.project import Project
    from offboard.runtime import Runtime

    project = Project.find()
    customer = load_customer(project, stack)
    return Runtime(project, stack, stack_backend(project, stack, backend_name), dry_run), customer, bucket_name(customer)
