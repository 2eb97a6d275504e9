"""The runbook commands, one function per CLI command: each returns data and prints nothing.

`backend` says where the stack lives ("local": the embedded endpoint, or "pulumi"). Tests and
tools may pass `actions` (a registry) and `outputs` (a function returning the stack outputs,
raising OffboardError when there are none) in place of the real ones. Every refusal (unknown
stack, workflow or step, a closed gate, a leaking text, a bad template) is an OffboardError.
"""

from __future__ import annotations

from typing import Callable

from offboard.customer import Customer, load_customer
from offboard.errors import NotProvisioned
from offboard.infra.outputs import StackOutputs
from offboard.project import Project
from offboard.runbook.actions import ActionContext, Actions, builtin
from offboard.runbook.engine import Engine, Outcome, Plan, StepView
from offboard.runbook.journal import Journal
from offboard.runbook.leaks import Sensitive
from offboard.runbook.mirror import into_bucket
from offboard.runbook.texts import write_texts
from offboard.runbook.workflow import WORKFLOWS, load_runbook

OutputsLoader = Callable[[], StackOutputs]


def plan(project: Project, stack: str, workflow: str, *, backend: str,
         actions: Actions | None = None, outputs: OutputsLoader | None = None) -> Plan:
    """Every step of the workflow with its status, and the gates (`Plan.as_json()` for --json)."""
    return open_engine(project, stack, backend=backend, actions=actions, outputs=outputs).plan(workflow)


def run(project: Project, stack: str, workflow: str, *, backend: str, dry_run: bool = False, until: str | None = None,
        actions: Actions | None = None, outputs: OutputsLoader | None = None) -> Outcome:
    """Run the machine steps in order up to the next person's step; `Outcome.ok` false: exit non-zero."""
    engine = open_engine(project, stack, backend=backend, actions=actions, outputs=outputs)
    return engine.run(workflow, dry_run=dry_run, until=until)


def confirm(project: Project, stack: str, step: str, *, by: str, note: str | None = None, backend: str,
            outputs: OutputsLoader | None = None) -> Outcome:
    """Record that a person's step is done."""
    return open_engine(project, stack, backend=backend, outputs=outputs).confirm(step, by, note)


def status(project: Project, stack: str, workflow: str | None = None, *, backend: str,
           actions: Actions | None = None, outputs: OutputsLoader | None = None) -> list[StepView]:
    """Every step of one workflow, or of both, with its last journal line."""
    engine = open_engine(project, stack, backend=backend, actions=actions, outputs=outputs)
    return [view for name in ([workflow] if workflow else WORKFLOWS) for view in engine.views(name)]


def retry(project: Project, stack: str, step: str, *, backend: str,
          actions: Actions | None = None, outputs: OutputsLoader | None = None) -> Outcome:
    """Run one machine step again (after a failure, or to redo it)."""
    return open_engine(project, stack, backend=backend, actions=actions, outputs=outputs).retry(step)


def open_engine(project: Project, stack: str, *, backend: str,
                actions: Actions | None = None, outputs: OutputsLoader | None = None) -> Engine:
    customer = load_customer(project, stack)
    known = KnownOutputs(outputs or (lambda: stack_outputs(project, customer, backend)))
    return Engine(
        runbook=load_runbook(project, customer, known.get()),
        journal=Journal.of_stack(project, stack, mirror=into_bucket(known.get)),
        actions=actions if actions is not None else builtin(),
        context=ActionContext(project, customer, backend),
        write_texts=lambda step: write_texts(project, customer, step, known.get()),
        sensitive=lambda: Sensitive.of(known.get()),
    )


def stack_outputs(project: Project, customer: Customer, backend: str) -> StackOutputs:
    from offboard.infra import stacks  # loads the infrastructure only when outputs are asked for

    return stacks.outputs(project, customer, backend)


class KnownOutputs:
    """The stack outputs once they exist: a run may provision the stack midway."""

    def __init__(self, load: OutputsLoader) -> None:
        self._load = load
        self._found: StackOutputs | None = None

    def get(self) -> StackOutputs | None:
        if self._found is None:
            try:
                self._found = self._load()
            except NotProvisioned:  # a backend that cannot be reached is an error, not "no bucket yet"
                return None
        return self._found
