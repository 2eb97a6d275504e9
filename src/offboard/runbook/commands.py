"""The runbook commands, one function per CLI command: each returns data and prints nothing
(`run --wait` says one line per wait through the `Polling` it is given).

`backend` says where the stack lives ("local": the embedded endpoint, or "pulumi"). Tests and
tools may pass `runner` (how machine steps run; by default their rendered modules) and
`outputs` (a function returning the stack outputs, raising OffboardError when there are none)
in place of the real ones. Every refusal (unknown
stack, workflow or step, a closed gate, a leaking text, a bad template) is an OffboardError.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from offboard.customer import Customer, load_customer
from offboard.errors import NotProvisioned, OffboardError
from offboard.infra.outputs import StackOutputs
from offboard.infra.provisioned import recorded, recorded_outputs, stack_backend
from offboard.project import Project
from offboard.runbook import people
from offboard.runbook.engine import Engine, StepRunner
from offboard.runbook.hooks import notifier
from offboard.runbook.journal import Journal
from offboard.runbook.mirror import into_bucket
from offboard.runbook.modules import RenderedModule, RenderedModules, render_modules, secrets_of
from offboard.runbook.outcome import Outcome, Plan, StepView
from offboard.runbook.texts import write_texts
from offboard.runbook.workflow import WORKFLOWS, load_runbook

OutputsLoader = Callable[[], StackOutputs]


def render(project: Project, stack: str, workflow: str, *, backend: str,
           outputs: OutputsLoader | None = None) -> list[RenderedModule]:
    """Write the module of every machine step of the workflow, for review before `run`. Once the
    stack is provisioned, a module holding its key is refused (no template is given the key; this
    catches one pasted in); a backend that cannot be reached only skips that check."""
    backend = stack_backend(project, stack, backend)  # the stack's own; rendering for another is refused
    try:
        known = (outputs or (lambda: stack_outputs(project, load_customer(project, stack), backend)))()
    except OffboardError:  # not provisioned yet, or a backend that cannot be reached
        known = None
    return render_modules(project, stack, workflow, backend, known)


def plan(project: Project, stack: str, workflow: str, *, backend: str,
         runner: StepRunner | None = None, outputs: OutputsLoader | None = None) -> Plan:
    """Every step of the workflow with its status, and the gates (`Plan.as_json()` for --json)."""
    shown = outputs or (lambda: recorded_outputs(project, stack))  # reaches no backend
    return open_engine(project, stack, backend=backend, runner=runner, outputs=shown).plan(workflow)


@dataclass(frozen=True)
class Polling:
    """`run --wait`: look again every `interval` seconds while the run waits on IBM, for at most
    `timeout` seconds (0: no limit), saying each wait in one line."""

    timeout: float
    interval: float
    say: Callable[[str], None]
    sleep: Callable[[float], None] = time.sleep


def run(project: Project, stack: str, workflow: str, *, backend: str, dry_run: bool = False, until: str | None = None,
        polling: Polling | None = None, runner: StepRunner | None = None, outputs: OutputsLoader | None = None) -> Outcome:
    """Run the machine steps in order up to the next person's step; `Outcome.exit_code` says how it stopped."""
    if polling and polling.interval <= 0:
        raise OffboardError("--interval must be more than 0 seconds")
    engine = open_engine(project, stack, backend=backend, runner=runner, outputs=outputs)
    outcome = engine.run(workflow, dry_run=dry_run, until=until)
    if polling is None:
        return outcome
    deadline = time.monotonic() + polling.timeout if polling.timeout > 0 else None
    while outcome.reason == "ibm":
        pause = polling.interval if deadline is None else min(polling.interval, deadline - time.monotonic())
        if pause <= 0:
            break  # the timeout: the outcome still waits on IBM
        next_look = datetime.now().astimezone() + timedelta(seconds=pause)
        waiting = engine.journal.latest()[outcome.stopped_at].note  # a look that found the same wait wrote no line
        polling.say(f"waiting on IBM at {outcome.stopped_at}: {waiting}; next look at {next_look:%H:%M:%S %Z}")
        try:
            polling.sleep(pause)
        except KeyboardInterrupt:  # between two looks nothing runs: the outcome says so, in --json too
            outcome.stop("interrupted", outcome.stopped_at, f"interrupted while waiting on IBM at {outcome.stopped_at}; "
                                                            "run again to go on")
            return outcome
        outcome = outcome.then(engine.run(workflow, until=until))
    return outcome


def confirm(project: Project, stack: str, step: str, *, by: str, note: str | None = None, ref: str | None = None,
            out_of_order: bool = False, reason: str | None = None, backend: str,
            outputs: OutputsLoader | None = None) -> Outcome:
    """Record that a person's step is done; before the steps ahead of it only `out_of_order`, with a reason."""
    engine = open_engine(project, stack, backend=backend, outputs=outputs)
    return people.confirm(engine, step, by, note, ref=ref, out_of_order=out_of_order, reason=reason)


def revoke(project: Project, stack: str, step: str, *, by: str, reason: str, backend: str,
           outputs: OutputsLoader | None = None) -> Outcome:
    """Undo a person's confirmation: it and every later step of its workflow that was done are pending again."""
    return people.revoke(open_engine(project, stack, backend=backend, outputs=outputs), step, by, reason)


def status(project: Project, stack: str, workflow: str | None = None, *, backend: str,
           runner: StepRunner | None = None, outputs: OutputsLoader | None = None) -> list[StepView]:
    """Every step of one workflow, or of both, with its last journal line."""
    shown = outputs or (lambda: recorded_outputs(project, stack))  # reaches no backend
    engine = open_engine(project, stack, backend=backend, runner=runner, outputs=shown)
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
    known = KnownOutputs(outputs or outputs_of(project, customer, backend))
    backend = stack_backend(project, stack, backend)
    journal = Journal.of_stack(project, stack, mirror=into_bucket(known.get))
    return Engine(
        runbook=load_runbook(project, customer, known.get()),
        journal=journal,
        runner=runner if runner is not None else RenderedModules(project, stack, backend, journal),
        write_texts=lambda step: write_texts(project, customer, step, known.get()),
        sensitive=lambda: secrets_of(customer, known.get()),  # the key and the databases' passwords
        notify=notifier(project, customer, known.get),  # the stack's hook, if it has one
    )


def stack_outputs(project: Project, customer: Customer, backend: str) -> StackOutputs:
    from offboard.infra import (
        stacks,  # loads the infrastructure only when outputs are asked for
    )

    return stacks.outputs(project, customer, backend)


def outputs_of(project: Project, customer: Customer, asked: str | None) -> OutputsLoader:
    """The stack outputs, for the journal's copy and to scrub the key, on the stack's own backend;
    none while the stack was never provisioned here and no backend is asked for (a customer's
    signature is confirmed before any backend is set up). Asked again each time: a run may
    provision the stack midway."""
    def load() -> StackOutputs | None:
        if asked is None and recorded(project, customer.stack) is None:
            return None
        return stack_outputs(project, customer, stack_backend(project, customer.stack, asked))
    return load


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
