"""The runbook commands, one function per CLI command: each returns data and prints nothing.

`backend` says where the stack lives ("local": the embedded endpoint, or "pulumi"). Tests and
tools may pass `runner` (how machine steps run; by default their rendered modules) and
`outputs` (a function returning the stack outputs, raising OffboardError when there are none)
in place of the real ones. Every refusal (unknown
stack, workflow or step, a closed gate, a leaking text, a bad template) is an OffboardError.
"""

from __future__ import annotations

from typing import Callable

from offboard.customer import Customer, load_customer
from offboard.errors import NotProvisioned, OffboardError
from offboard.infra.outputs import StackOutputs
from offboard.project import Project
from offboard.runbook.engine import Engine, Outcome, Plan, StepRunner, StepView
from offboard.runbook.journal import Journal
from offboard.runbook.mirror import into_bucket
from offboard.runbook.modules import RenderedModule, RenderedModules, render_modules, secrets_of
from offboard.runbook.texts import write_texts
from offboard.runbook.workflow import WORKFLOWS, load_runbook

OutputsLoader = Callable[[], StackOutputs]


def render(project: Project, stack: str, workflow: str, *, backend: str,
           outputs: OutputsLoader | None = None) -> list[RenderedModule]:
    """Write the module of every machine step of the workflow, for review before `run`. Once the
    stack is provisioned, a module holding its key is refused (no template is given the key; this
    catches one pasted in); a backend that cannot be reached only skips that check."""
    try:
        known = (outputs or (lambda: stack_outputs(project, load_customer(project, stack), backend)))()
    except OffboardError:  # not provisioned yet, or a backend that cannot be reached
        known = None
    return render_modules(project, stack, workflow, backend, known)


def plan(project: Project, stack: str, workflow: str, *, backend: str,
         runner: StepRunner | None = None, outputs: OutputsLoader | None = None) -> Plan:
    """Every step of the workflow with its status, and the gates (`Plan.as_json()` for --json)."""
    return open_engine(project, stack, backend=backend, runner=runner, outputs=outputs).plan(workflow)


def run(project: Project, stack: str, workflow: str, *, backend: str, dry_run: bool = False, until: str | None = None,
        runner: StepRunner | None = None, outputs: OutputsLoader | None = None) -> Outcome:
    """Run the machine steps in order up to the next person's step; `Outcome.ok` false: exit non-zero."""
    engine = open_engine(project, stack, backend=backend, runner=runner, outputs=outputs)
    return engine.run(workflow, dry_run=dry_run, until=until)


def confirm(project: Project, stack: str, step: str, *, by: str, note: str | None = None, backend: str,
            outputs: OutputsLoader | None = None) -> Outcome:
    """Record that a person's step is done."""
    return open_engine(project, stack, backend=backend, outputs=outputs).confirm(step, by, note)


def status(project: Project, stack: str, workflow: str | None = None, *, backend: str,
           runner: StepRunner | None = None, outputs: OutputsLoader | None = None) -> list[StepView]:
    """Every step of one workflow, or of both, with its last journal line."""
    engine = open_engine(project, stack, backend=backend, runner=runner, outputs=outputs)
    return [view for name in ([workflow] if workflow else WORKFLOWS) for view in engine.views(name)]


def retry(project: Project, stack: str, step: str, *, backend: str,
          runner: StepRunner | None = None, outputs: OutputsLoader | None = None) -> Outcome:
    """Run one machine step again (after a failure, or to redo it)."""
    return open_engine(project, stack, backend=backend, runner=runner, outputs=outputs).retry(step)


def run_step(project: Project, stack: str, step: str, *, backend: str) -> Outcome:
    """Run one machine step alone, journaled, as `python <module>.py` does."""
    return open_engine(project, stack, backend=backend).run_step(step)


def open_engine(project: Project, stack: str, *, backend: str,
                runner: StepRunner | None = None, outputs: OutputsLoader | None = None) -> Engine:
    customer = load_customer(project, stack)
    known = KnownOutputs(outputs or (lambda: stack_outputs(project, customer, backend)))
    journal = Journal.of_stack(project, stack, mirror=into_bucket(known.get))
    return Engine(
        runbook=load_runbook(project, customer, known.get()),
        journal=journal,
        runner=runner if runner is not None else RenderedModules(project, stack, backend, journal),
        write_texts=lambda step: write_texts(project, customer, step, known.get()),
        sensitive=lambda: secrets_of(customer, known.get()),  # the key and the databases' passwords
    )


def stack_outputs(project: Project, customer: Customer, backend: str) -> StackOutputs:
    from offboard.infra import (
        stacks,  # loads the infrastructure only when outputs are asked for
    )

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
