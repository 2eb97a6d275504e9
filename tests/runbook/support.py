"""Fake stack outputs and actions, and the runbook commands on one test customer."""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

from rich.console import Console

from offboard.customer import load_customer
from offboard.infra.outputs import StackOutputs
from offboard.project import Project
from offboard.runbook import commands
from offboard.errors import OffboardError
from offboard.runbook.modules import ModuleInfo, Prepared
from offboard.runbook.workflow import WORKFLOWS, load_runbook

STACK = "alpha"  # a customer of tests/conftest.py's project
ORG_ID = "20011111"
CUSTOMER_NAME = "Alpha Holding AG"
BUCKET = "offboard-alpha-20011111"
KEY_ID = "fake-key-id-runbook-test"
SECRET = "r7Wq/9xK+2mPzL4vNb8TcY1sHd6FgJ0eUa3iOo5E"
OUTPUTS = StackOutputs(bucket=BUCKET, region="eu-central-1", user="offboard-alpha", group="offboard-alpha",
                       access_key_id=KEY_ID, secret_access_key=SECRET)


def workflow_actions(project: Project) -> set[str]:
    runbook = load_runbook(project, load_customer(project, STACK), OUTPUTS)
    return {step.action for name in WORKFLOWS for step in runbook.workflow(name).steps if step.action}


class FakeActions:
    """Stands in for the rendered modules: per action, a function that counts its calls and
    returns figures; a step whose action has none is refused as a step without a module."""

    def __init__(self, names: set[str]) -> None:
        self.calls: Counter[str] = Counter()
        self.actions = {name: self.recorder(name) for name in names}

    def recorder(self, name: str):
        def action(**args):
            self.calls[name] += 1
            return {"bytes": 1024, "args": args}
        return action

    def replace(self, name: str, action) -> None:
        self.actions[name] = action

    def module(self, workflow, step) -> ModuleInfo | None:
        return ModuleInfo(f"fake/{step.id}.py", None, None) if step.action in self.actions else None

    def prepare(self, workflow, step) -> Prepared:
        if step.action not in self.actions:
            raise OffboardError(f"{step.id} has no rendered module")
        action = self.actions[step.action]
        return Prepared(f"fake/{step.id}.py", None, lambda: action(**step.args))


class Driver:
    """The runbook commands on the test stack, called as the CLI will call them."""

    def __init__(self, project: Project, actions: FakeActions, outputs=lambda: OUTPUTS) -> None:
        self.project, self.actions, self.outputs = project, actions, outputs

    def plan(self, workflow: str):
        return commands.plan(self.project, STACK, workflow, backend="local", runner=self.actions, outputs=self.outputs)

    def run(self, workflow: str, **options):
        return commands.run(self.project, STACK, workflow, backend="local", runner=self.actions, outputs=self.outputs, **options)

    def confirm(self, step: str, by: str = "Ann Operator", note: str | None = None, **options):
        return commands.confirm(self.project, STACK, step, by=by, note=note, backend="local", outputs=self.outputs, **options)

    def revoke(self, step: str, reason: str, by: str = "Ann Operator"):
        return commands.revoke(self.project, STACK, step, by=by, reason=reason, backend="local", outputs=self.outputs)

    def status(self, workflow: str | None = None):
        return commands.status(self.project, STACK, workflow, backend="local", runner=self.actions, outputs=self.outputs)

    def retry(self, step: str):
        return commands.retry(self.project, STACK, step, backend="local", runner=self.actions, outputs=self.outputs)

    def walk(self, workflow: str, **options):
        """Run to the end (or `until`), confirming every person's step; every outcome on the way."""
        outcomes = [self.run(workflow, **options)]
        while outcomes[-1].reason == "person":
            outcomes.append(self.confirm(outcomes[-1].stopped_at))
            outcomes.append(self.run(workflow, **options))
        return outcomes

    @property
    def journal(self) -> Path:
        return self.project.stack_state_dir(STACK) / "journal.jsonl"

    @property
    def texts(self) -> Path:
        return self.project.stack_state_dir(STACK) / "texts"


class FakeS3:
    """Stands in for the customer's S3 client in the journal mirror: keeps what is put."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}
        self.failure: Exception | None = None

    def put_object(self, Bucket: str, Key: str, Body: bytes) -> None:
        if self.failure:
            raise self.failure
        self.objects[(Bucket, Key)] = Body


def printed(renderable) -> str:
    """What the CLI would print on a wide terminal, as plain text."""
    console = Console(record=True, width=200, file=io.StringIO())
    console.print(renderable)
    return console.export_text()
