"""One entry point per stack operation, whichever backend holds the stack."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import boto3

from offboard.customer import Customer, require_own_org
from offboard.errors import OffboardError
from offboard.infra import endpoint as local_endpoint
from offboard.infra import policies, provisioned
from offboard.infra.automation import PulumiBackend
from offboard.infra.embedded import EmbeddedBackend
from offboard.infra.outputs import StackOutputs
from offboard.project import Project, write_private
from offboard.runtime import Runtime, one_at_a_time
from offboard.templates import render
from offboard.transfer.session import RETRIES

ACCESS_INFO_TEMPLATE = "templates/s3-access-info.txt.j2"


def backend(project: Project, name: str, on_output: Callable[[str], None] | None = None) -> RecordedBackend:
    if name == "pulumi":
        return RecordedBackend(project, PulumiBackend(project, on_output))
    if name == "local":
        return RecordedBackend(project, EmbeddedBackend(project))
    raise OffboardError(f"unknown backend {name!r}: choose one of {', '.join(provisioned.BACKENDS)}")


class RecordedBackend:
    """A backend that works only on the stacks living on it, and records in each stack's state
    folder that it does (`provisioned`) with its public outputs, for the commands that read them
    without reaching the backend (plan, status, fleet)."""

    def __init__(self, project: Project, inner: PulumiBackend | EmbeddedBackend) -> None:
        self.project, self.inner, self.name = project, inner, inner.name

    def up(self, customer: Customer) -> StackOutputs:
        provisioned.stack_backend(self.project, customer.stack, self.name)
        made = self.inner.up(customer)
        # the secret too where nothing else keeps it (the embedded endpoint; Pulumi keeps its own, encrypted)
        made.save(self.project.stack_state_dir(customer.stack), with_secret=self.name == "local")
        provisioned.record_up(self.project, customer.stack, self.name)
        return made

    def preview(self, customer: Customer) -> list[tuple[str, str, str]]:
        provisioned.stack_backend(self.project, customer.stack, self.name)
        return self.inner.preview(customer)

    def outputs(self, customer: Customer) -> StackOutputs:
        provisioned.stack_backend(self.project, customer.stack, self.name)
        return self.inner.outputs(customer)

    def destroy(self, customer: Customer) -> None:
        provisioned.stack_backend(self.project, customer.stack, self.name)
        self.inner.destroy(customer)
        StackOutputs.forget(self.project.stack_state_dir(customer.stack))
        provisioned.record_destroyed(self.project, customer.stack)


def up(project: Project, customer: Customer, backend_name: str | None) -> StackOutputs:
    require_own_org(project, customer)
    return backend(project, provisioned.stack_backend(project, customer.stack, backend_name)).up(customer)


@one_at_a_time
def provision(runtime: Runtime, *, bucket: str, region: str) -> dict[str, Any]:
    """The runbook's provision step. The backend reads the stack file itself, so the file must
    still give the bucket and region the caller expects; a dry run previews the changes."""
    customer = runtime.customer()
    found = policies.bucket_name(customer), customer.region
    if found != (bucket, region):
        raise OffboardError(f"stack {runtime.stack} now gives bucket {found[0]} in {found[1]}, not {bucket} in {region}: "
                            "render its runbook modules again")
    if runtime.dry_run:
        planned = backend(runtime.project, runtime.backend).preview(customer)
        return {"dry_run": True, "resources": [" ".join(resource) for resource in planned]}
    made = up(runtime.project, customer, runtime.backend)
    return {"bucket": made.bucket, "user": made.user}


def outputs(project: Project, customer: Customer, backend_name: str | None) -> StackOutputs:
    """The stack's outputs with its key, from the backend it lives on (`backend_name` None: its own)."""
    return backend(project, provisioned.stack_backend(project, customer.stack, backend_name)).outputs(customer)


def admin_s3(project: Project, customer: Customer, backend_name: str):
    """S3 with the operator's rights, for what the customer's key may not do (emptying the bucket):
    the embedded endpoint's admin key, or the AWS credentials Pulumi itself uses."""
    if backend_name == "local":
        return local_endpoint.running(project.state_dir / "local").client("s3", customer.region)
    return boto3.session.Session(region_name=customer.region).client("s3", config=RETRIES)


def access_info(project: Project, customer: Customer, stack_outputs: StackOutputs) -> str:
    """The S3 access information the MSP puts into the customer's Box folder (holds the secret)."""
    context = {
        "customer": customer.model_dump(),
        "outputs": stack_outputs.public(),
        "secret_access_key": stack_outputs.secret_access_key.get_secret_value(),
    }
    return render(project, ACCESS_INFO_TEMPLATE, context)


def write_access_info(project: Project, customer: Customer, stack_outputs: StackOutputs) -> Path:
    """Render the access information into a 0600 file of the stack's state folder."""
    path = project.stack_state_dir(customer.stack) / "s3-access-info.txt"
    return write_private(path, access_info(project, customer, stack_outputs))
