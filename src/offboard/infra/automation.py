"""The Pulumi backend: a thin wrapper over the Automation API on this project's directory.

LocalWorkspace ignores `stackConfigDir` (Pulumi issue 10305), so every operation gets the
stack file explicitly as `--config-file`; the file was validated by `customer.py` first.
"""

from __future__ import annotations

import re
import shutil
from contextlib import contextmanager
from typing import Callable, Iterator

from offboard.customer import Customer
from offboard.errors import NotProvisioned, OffboardError
from offboard.infra.outputs import StackOutputs
from offboard.project import Project

INSTALL_HINT = (
    "the Pulumi CLI is not installed: install it from https://www.pulumi.com/docs/install/ "
    "(for example `curl -fsSL https://get.pulumi.com | sh`), log in with `pulumi login`, "
    "or use `--backend local` for the embedded endpoint"
)


class PulumiBackend:
    name = "pulumi"

    def __init__(self, project: Project, on_output: Callable[[str], None] | None = None) -> None:
        self.project = project
        self.on_output = on_output  # Pulumi's own progress lines, for the CLI to show

    @contextmanager
    def stack(self, customer: Customer, create: bool = False) -> Iterator:
        """The customer's Pulumi stack; Pulumi's failures become one line."""
        if shutil.which("pulumi") is None:
            raise OffboardError(INSTALL_HINT)
        from pulumi import automation  # imported late: only this backend needs it

        select = automation.create_or_select_stack if create else automation.select_stack
        try:
            yield select(stack_name=customer.stack, work_dir=str(self.project.root))
        except automation.StackNotFoundError:
            raise NotProvisioned(f"pulumi has no stack {customer.stack}: run `offboard stack up {customer.stack}`") from None
        except automation.CommandError as error:
            raise OffboardError(f"pulumi failed on stack {customer.stack}: {last_error_line(str(error))}") from None

    def config_file(self, customer: Customer) -> str:
        return str(self.project.stack_file(customer.stack))

    def up(self, customer: Customer) -> StackOutputs:
        with self.stack(customer, create=True) as stack:
            result = stack.up(config_file=self.config_file(customer), on_output=self.on_output)
        return to_outputs(result.outputs)

    def preview(self, customer: Customer) -> list[tuple[str, str, str]]:
        """(resource type, name, operation) for every resource the update would touch."""
        planned: list[tuple[str, str, str]] = []

        def collect(event) -> None:
            if event.resource_pre_event:
                meta = event.resource_pre_event.metadata
                planned.append((meta.type, meta.urn.rsplit("::", 1)[-1], str(meta.op.value)))

        with self.stack(customer, create=True) as stack:
            stack.preview(config_file=self.config_file(customer), on_output=self.on_output, on_event=collect)
        return planned

    def outputs(self, customer: Customer) -> StackOutputs:
        with self.stack(customer) as stack:
            outputs = stack.outputs()
        if "bucket" not in outputs:
            raise NotProvisioned(f"stack {customer.stack} has no outputs yet: run `offboard stack up {customer.stack}`")
        return to_outputs(outputs)

    def destroy(self, customer: Customer) -> None:
        with self.stack(customer) as stack:
            stack.destroy(config_file=self.config_file(customer), on_output=self.on_output)


def to_outputs(outputs) -> StackOutputs:
    """Pulumi's OutputValues (secret or not) as StackOutputs."""
    return StackOutputs(**{key: item.value for key, item in outputs.items() if key in StackOutputs.model_fields})


def last_error_line(text: str) -> str:
    """The line of Pulumi's stderr that says what went wrong."""
    errors = re.findall(r"\berror: (.+)$", text, flags=re.MULTILINE)
    if errors:
        return errors[-1].strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no message"
