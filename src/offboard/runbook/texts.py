"""The texts people send (support cases, tickets, e-mails, the Box folder's access file).

Each is rendered from `runbooks/templates/` into the stack's `texts/` folder, 0600. Only the
Box folder's text is rendered with the key (as `outputs.access_key_id` and
`secret_access_key`, like `offboard stack access-info`). Every other text is checked: one
that carries the bucket name, the key id or the secret is refused and no text of the step
is written. The texts to the customer are told what the last fix-up of each target did to
people (counts and reasons, never the ids), so that none says everything is in place while a user
is unmapped and not accepted. Every text is given the stack's references (`records`,
offboard.runbook.records): the case and ticket numbers and the cut-over date, each shown as
"not yet recorded" until it is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel

from offboard.customer import Customer
from offboard.db.stages import TARGETS
from offboard.errors import OffboardError
from offboard.fixup.unmapped import last_fixup
from offboard.infra.outputs import StackOutputs
from offboard.project import Project, write_private
from offboard.runbook.journal import Journal
from offboard.runbook.leaks import Sensitive
from offboard.runbook.records import current
from offboard.runbook.workflow import Step, Text, load_runbook, public_context
from offboard.templates import render

TEXTS_DIR = "texts"


class RenderedText(BaseModel):
    step: str
    audience: str
    path: Path


def write_texts(project: Project, customer: Customer, step: Step, outputs: StackOutputs | None) -> list[RenderedText]:
    delivery, _ = load_runbook(project, customer, outputs).find(step.id)
    records = current(Journal.of_stack(project, customer.stack)).for_texts(delivery.name)
    bodies = [(text, render_text(project, customer, step, text, outputs, records)) for text in step.texts]
    folder = project.stack_state_dir(customer.stack) / TEXTS_DIR
    return [
        RenderedText(step=step.id, audience=text.audience.value,
                     path=write_private(folder / f"{step.id}.{text.template.removesuffix('.j2')}", body))
        for text, body in bodies
    ]


def render_text(project: Project, customer: Customer, step: Step, text: Text, outputs: StackOutputs | None,
                records: dict[str, Any]) -> str:
    context = {**public_context(customer, outputs), "fixup": fixup_context(project, customer.stack), "records": records}
    if text.audience.private:
        if outputs is None:
            raise OffboardError(f"{step.id}: the {text.audience.value} text needs the stack's outputs; is the stack provisioned?")
        context["outputs"] = outputs.public()
        context["secret_access_key"] = outputs.secret_access_key.get_secret_value()
    body = render(project, f"templates/{text.template}", context)
    if not text.audience.private:
        Sensitive.of(outputs, bucket=True).refuse(body, f"the {text.audience.value} text of {step.id} (runbooks/templates/{text.template})")
    return body


def fixup_context(project: Project, stack: str) -> dict[str, dict[str, Any] | None]:
    """Per target, the summary of its last fix-up's people (None before the first)."""
    facts = {target: last_fixup(project, stack, target) for target in TARGETS}
    return {target: found.summary() if found else None for target, found in facts.items()}
