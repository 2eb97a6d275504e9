"""What the runbook engine answers: a step as plan and status show it, the gates, and the outcome
of a command that changes the journal, with its exit code."""

from __future__ import annotations

from typing import Any, Iterable, Literal

from pydantic import BaseModel

from offboard.errors import (EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_WAITING_IBM, EXIT_WAITING_PERSON, Interrupted,
                             OffboardError, Waiting)
from offboard.runbook.journal import Entry, Journaled
from offboard.runbook.texts import RenderedText

# Why a command stopped: at a person's step, at a step waiting on IBM, at a failed or an
# interrupted step, after --until, or at the end; or a confirm, revoke or retry that succeeded.
Reason = Literal["person", "ibm", "failed", "interrupted", "until", "complete", "confirmed", "revoked", "done"]
EXIT_CODES = {"person": EXIT_WAITING_PERSON, "ibm": EXIT_WAITING_IBM, "failed": EXIT_FAILED, "interrupted": EXIT_INTERRUPTED}
STOP_ERRORS = {"ibm": Waiting, "interrupted": Interrupted, "failed": OffboardError}


class StepView(Journaled):
    """One step as plan and status show it: the workflow's definition and its last journal line."""

    id: str
    title: str
    actor: str
    kind: str
    status: str  # the journal's, or pending, running, interrupted (offboard.runbook.journal.step_state)
    workflow: str
    does: str | None = None
    action: str | None = None
    refused: str | None = None  # why run would refuse the step's module now (edited, stale, missing)
    blocked_by: list[str] = []
    texts: list[str] = []


class GateView(BaseModel):
    id: str
    title: str
    before: str | None
    requires: list[str]
    waiting_for: list[str]

    @property
    def satisfied(self) -> bool:
        return not self.waiting_for


class Plan(BaseModel):
    workflow: str
    title: str
    steps: list[StepView]
    gates: list[GateView]  # the workflow's gates and the rules for people, satisfied or not

    def as_json(self) -> list[dict[str, Any]]:
        return as_json(self.steps)


class Outcome(BaseModel):
    workflow: str
    reason: Reason
    message: str
    stopped_at: str | None = None
    dry_run: bool = False
    steps: list[str] = []  # the steps run (or confirmed, or revoked), or with dry_run those that would run
    entries: list[Entry] = []  # the journal lines this command wrote that end a step's change
    texts: list[RenderedText] = []
    warnings: list[str] = []

    @property
    def ok(self) -> bool:
        """Nothing stands in the way but people: no failure, no interruption, no wait on IBM."""
        return self.reason not in STOP_ERRORS

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.dry_run else EXIT_CODES.get(self.reason, EXIT_OK)

    def stop(self, reason: Reason, step: str, message: str) -> None:
        self.reason, self.stopped_at, self.message = reason, step, message

    def error(self) -> OffboardError:
        """The stop as the exception that ends a command with its exit code (not for an ok outcome)."""
        return STOP_ERRORS[self.reason](self.message)

    def then(self, later: Outcome) -> Outcome:
        """`later`, counting what this earlier run of the same command did too."""
        return later.model_copy(update={"steps": self.steps + later.steps, "entries": self.entries + later.entries,
                                        "texts": self.texts + later.texts, "warnings": self.warnings + later.warnings})

    def as_json(self) -> dict[str, Any]:
        """The `--json` form of run, confirm, revoke and retry: the texts by their paths."""
        return {**self.model_dump(mode="json", exclude={"texts"}), "exit_code": self.exit_code,
                "texts": [str(text.path) for text in self.texts]}


def as_json(steps: Iterable[StepView]) -> list[dict[str, Any]]:
    """The `--json` form of plan and status: one object per step."""
    return [step.model_dump(mode="json") for step in steps]
