"""The one registry of machine actions: a name in a workflow -> the function that does it.

An action is `action(context, **args) -> figures | None`: it gets the step's `args` from the
workflow as keyword arguments and returns figures for the journal (bytes, files, rows...).
It raises OffboardError (or any exception) when it fails. It must be idempotent: after a
crash the engine runs it again. The context carries no secret: an action that needs the
customer's key reads the stack outputs itself.

The engine only calls `get(name)`, so anything with that method can stand in for the
registry (for example one that runs the rendered per-customer modules).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Protocol

from offboard.customer import Customer
from offboard.errors import OffboardError
from offboard.project import Project

Figures = Mapping[str, Any]


@dataclass(frozen=True)
class ActionContext:
    project: Project
    customer: Customer
    backend: str  # where the stack lives: "local" (embedded endpoint) or "pulumi"


Action = Callable[..., Figures | None]


class Actions(Protocol):
    def get(self, name: str) -> Action | None: ...


class Registry:
    def __init__(self, actions: Mapping[str, Action] | None = None) -> None:
        self._actions: dict[str, Action] = {}
        for name, action in (actions or {}).items():
            self.register(name, action)

    def register(self, name: str, action: Action) -> Action:
        if name in self._actions:
            raise OffboardError(f"action {name} is registered twice")
        self._actions[name] = action
        return action

    def get(self, name: str) -> Action | None:
        return self._actions.get(name)

    def names(self) -> list[str]:
        return sorted(self._actions)


def provision(context: ActionContext) -> Figures:
    # Imported here: the infrastructure (and Pulumi's SDK) loads only when a stack is provisioned.
    from offboard.infra import stacks

    outputs = stacks.up(context.project, context.customer, context.backend)
    return {"bucket": outputs.bucket, "user": outputs.user}


def stage(module: str, name: str) -> Action:
    """A stage function (`offboard.<module>.<name>`) as an action, given the customer's stack outputs.
    Imported when it runs: a plan loads neither the databases' nor the transfers' code."""

    def action(context: ActionContext, **args: Any) -> Figures:
        from offboard.infra import stacks

        outputs = stacks.outputs(context.project, context.customer, context.backend)
        function = getattr(importlib.import_module(f"offboard.{module}"), name)
        return function(context.project, context.customer, outputs, **args)

    return action


def verify(context: ActionContext, target: str, delivery: str | None = None) -> Figures:
    """Files and rows of the target against every committed delivery (`delivery` names the step's)."""
    from offboard import verify as proof
    from offboard.infra import stacks

    outputs = stacks.outputs(context.project, context.customer, context.backend)
    return proof.require_equal(proof.verify_target(context.project, context.customer, outputs, target))


def db_fixup(context: ActionContext, target: str) -> Figures:
    from offboard.db import stages

    report = stages.fixup(context.project, context.customer, target)
    return {"rows_changed": report.changed_rows, "unmapped_users": len(report.unmapped_users)}


def teardown(context: ActionContext) -> Figures:
    from offboard.teardown import teardown as tear_down

    return tear_down(context.project, context.customer, context.backend)


def builtin() -> Registry:
    """The actions that exist today; the stages register theirs here as they land."""
    return Registry({
        "stack.up": provision,
        "files.export": stage("files.stages", "export"),
        "files.import": stage("files.stages", "import_"),
        "db.export": stage("db.stages", "export"),
        "delivery.download": stage("db.stages", "download"),
        "db.import": stage("db.stages", "import_"),
        "verify": verify,
        "db.fixup": db_fixup,
        "teardown": teardown,
    })
