"""Every customer of the project at a glance: where its migration stands and who it waits for."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from offboard.customer import load_customer
from offboard.errors import OffboardError
from offboard.infra.embedded import gone
from offboard.project import Project
from offboard.runbook.journal import Journal, step_state
from offboard.runbook.workflow import WORKFLOWS, load_runbook


class FleetRow(BaseModel):
    stack: str
    customer: str = ""
    org_id: str = ""
    delivery: str = ""  # the workflow the migration is in
    step: str = ""  # its first step not done ("" when both deliveries are done)
    status: str = ""  # as status shows it: running and interrupted told apart
    waiting_on: str = ""  # the actor of that step
    since: datetime | None = None  # when the journal last moved
    problem: str = ""  # a stack file or journal that cannot be read, or a bucket gone with the embedded endpoint


def fleet(project: Project) -> list[FleetRow]:
    """One row per stack file; reads only the stack files and journals, never a cloud."""
    return [row_of(project, stack) for stack in project.stack_names()]


def row_of(project: Project, stack: str) -> FleetRow:
    try:
        customer = load_customer(project, stack)
        runbook = load_runbook(project, customer, None)
        journal = Journal.of_stack(project, stack)
        latest, entries, locked = journal.latest(), journal.entries(), journal.locked()
    except OffboardError as error:
        return FleetRow(stack=stack, problem=str(error))
    since = max((entry.end or entry.start for entry in entries if entry.end or entry.start), default=None)
    row = FleetRow(stack=stack, customer=customer.customer_name, org_id=customer.org_id, since=since, problem=gone(project, stack) or "")
    for name in WORKFLOWS:
        for step in runbook.workflow(name).steps:
            entry = latest.get(step.id)
            if entry is None or entry.status != "done":
                return row.model_copy(update={"delivery": name, "step": step.id, "waiting_on": step.actor.value,
                                              "status": step_state(entry, locked)})
    return row.model_copy(update={"delivery": "delta", "status": "complete"})
