"""The two workflows of a migration, rendered from `runbooks/<name>.yaml.j2` and validated.

Step ids are unique across both workflows, so a step is named without its workflow
(`confirm <stack> <step>`) and a gate of one workflow can wait for a step of the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from offboard.customer import Customer
from offboard.errors import OffboardError
from offboard.validation import describe
from offboard.infra.outputs import StackOutputs
from offboard.project import Project
from offboard.templates import render

WORKFLOWS = ("initial", "delta")
STEP_ID = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"


class Actor(str, Enum):
    customer = "customer"
    customer_admin = "customer-admin"
    ch_msp = "ch-msp"
    hcl_l2 = "hcl-l2"
    hcl_support = "hcl-support"
    ibm = "ibm"


class Kind(str, Enum):
    manual = "manual"
    automated = "automated"


class Audience(str, Enum):
    support_case = "support-case"
    ticket = "ticket"
    email = "email"
    box_folder = "box-folder"

    @property
    def private(self) -> bool:
        """Only the Box folder may receive the customer's bucket and key."""
        return self is Audience.box_folder


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(Strict):
    template: str = Field(pattern=r"^[\w.-]+\.j2$")
    audience: Audience


class Step(Strict):
    id: str = Field(pattern=STEP_ID, max_length=40)
    title: str = Field(min_length=1)
    actor: Actor
    kind: Kind
    does: str | None = None
    texts: tuple[Text, ...] = ()
    action: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _kind_fits(self) -> Step:
        if self.kind is Kind.automated and (not self.action or self.texts):
            raise ValueError(f"automated step {self.id} needs an action and has no texts")
        if self.kind is Kind.manual and (self.action or self.args or not self.does):
            raise ValueError(f"manual step {self.id} says what the person does and has no action or args")
        return self


class Gate(Strict):
    """`requires` must be done before the step `before` and every later step of its workflow.

    Without `before` the gate stops no step: it is a rule for people, shown until satisfied.
    """

    id: str = Field(pattern=STEP_ID)
    title: str = Field(min_length=1)
    requires: tuple[str, ...] = Field(min_length=1)
    before: str | None = None


class Workflow(Strict):
    name: str
    title: str
    steps: tuple[Step, ...] = Field(min_length=1)
    gates: tuple[Gate, ...] = ()

    def position(self, step_id: str) -> int:
        return [step.id for step in self.steps].index(step_id)

    def has(self, step_id: str) -> bool:
        return any(step.id == step_id for step in self.steps)

    def guarding(self, step_id: str) -> list[Gate]:
        """The gates that this step waits for: those placed on it or on an earlier step."""
        here = self.position(step_id)
        return [gate for gate in self.gates if gate.before and self.position(gate.before) <= here]


@dataclass(frozen=True)
class Runbook:
    workflows: dict[str, Workflow]

    def workflow(self, name: str) -> Workflow:
        if name not in self.workflows:
            raise OffboardError(f"unknown workflow {name!r}: choose one of {', '.join(WORKFLOWS)}")
        return self.workflows[name]

    def find(self, step_id: str) -> tuple[Workflow, Step]:
        for workflow in self.workflows.values():
            for step in workflow.steps:
                if step.id == step_id:
                    return workflow, step
        raise OffboardError(f"unknown step {step_id!r}: the plan of each workflow lists its steps")

    def closed_gates(self, step_id: str, done: set[str]) -> list[Gate]:
        workflow, _ = self.find(step_id)
        return [gate for gate in workflow.guarding(step_id) if not set(gate.requires) <= done]

    def advisories(self) -> list[Gate]:
        """Gates that stop no step; every plan shows them until they are satisfied."""
        return [gate for workflow in self.workflows.values() for gate in workflow.gates if not gate.before]


def public_context(customer: Customer, outputs: StackOutputs | None) -> dict[str, Any]:
    """What every template sees: the customer's settings and, once provisioned, the outputs
    without the key (`outputs` is None before). Only the Box folder's text gets the key."""
    shown = outputs.model_dump(exclude={"access_key_id", "secret_access_key"}) if outputs else None
    return {"customer": customer.model_dump(), "outputs": shown}


def load_runbook(project: Project, customer: Customer, outputs: StackOutputs | None) -> Runbook:
    """Render and validate both workflows; a bad template is one OffboardError naming its file."""
    context = public_context(customer, outputs)
    workflows = {name: load_workflow(project, name, context) for name in WORKFLOWS}
    check_references(workflows)
    return Runbook(workflows)


def load_workflow(project: Project, name: str, context: dict[str, Any]) -> Workflow:
    template = f"{name}.yaml.j2"
    text = render(project, template, context)
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise OffboardError(f"runbooks/{template}:{where} not valid YAML once rendered") from None
    try:
        workflow = Workflow.model_validate(document)
    except ValidationError as error:
        raise OffboardError(f"runbooks/{template}: {describe(error)}") from None
    if workflow.name != name:
        raise OffboardError(f"runbooks/{template}: name is {workflow.name!r}, expected {name!r}")
    return workflow


def check_references(workflows: dict[str, Workflow]) -> None:
    """Ids unique across both workflows; every gate names steps that exist, `before` in its own."""
    seen: dict[str, str] = {}
    for workflow in workflows.values():
        for item in [*workflow.steps, *workflow.gates]:
            if item.id in seen:
                raise OffboardError(f"runbooks/{workflow.name}.yaml.j2: id {item.id} is also used in {seen[item.id]}")
            seen[item.id] = workflow.name
    steps = {step.id for workflow in workflows.values() for step in workflow.steps}
    for workflow in workflows.values():
        for gate in workflow.gates:
            unknown = [ref for ref in gate.requires if ref not in steps]
            if gate.before and not workflow.has(gate.before):
                unknown.append(gate.before)
            if unknown:
                raise OffboardError(f"runbooks/{workflow.name}.yaml.j2: gate {gate.id} names unknown step(s) {', '.join(unknown)}")
