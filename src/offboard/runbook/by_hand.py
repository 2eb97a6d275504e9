"""Stage commands run by hand (`offboard db import ...`): one record of what happened.

A stage command run by hand is journaled like a runbook step: a `started` line, then `done`
with its figures or `failed` with its error (scrubbed of the key and the passwords), each
carrying the command as typed and the operator's reason. When it does exactly what a machine
step of a workflow does (the same action with the same arguments) its lines are that step's, so
the runbook counts the step done and does not do it again; any other is journaled under its
action's name in its delivery's workflow.

Once the runbook has begun a delivery (a line for one of its steps written by the runbook, not
by hand), a command that changes the bucket or a target is refused unless it is the next step
due, its gates open (the by-hand path of a delivery), or the operator says `--outside-runbook
--reason TEXT`; a verification never is. On a stack the runbook has not
touched (a sample being tried out) hand runs need no reason. A dry run changes nothing: it is
neither refused nor journaled. The journal's lock is held throughout, so a hand run and
`runbook run` never overlap, and a command that another one holding the stages' lock keeps
from changing the stack is refused before it is journaled.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

from offboard.customer import load_customer
from offboard.errors import OffboardError
from offboard.infra.outputs import StackOutputs
from offboard.project import Project
from offboard.runtime import Runtime
from offboard.runbook.commands import KnownOutputs, OutputsLoader, outputs_of
from offboard.runbook.engine import done_steps, error_text, undone_before
from offboard.runbook.journal import Entry, Journal, seconds_between, utc_now
from offboard.runbook.leaks import Sensitive
from offboard.runbook.mirror import into_bucket
from offboard.runbook.modules import secrets_of
from offboard.runbook.rendered import figures_of
from offboard.runbook.workflow import WORKFLOWS, Actor, Kind, Runbook, Step, Workflow, load_runbook
from offboard.validation import said

Result = TypeVar("Result")


@dataclass(frozen=True)
class HandCommand:
    """A stage command as the operator asked for it."""

    words: str  # after `offboard`: "db import", "verify"
    stack: str
    args: dict[str, str] = field(default_factory=dict)  # named as the steps' args: {"target": "staging", "delivery": "initial"}
    flags: tuple[str, ...] = ()  # options that change what it does: "--checksum"
    changes: bool = True  # it changes the bucket or a target; a verification does not

    @property
    def action(self) -> str:
        """The step action it performs: `db import` is `db.import`."""
        return self.words.replace(" ", ".")

    def typed(self, outside_runbook: bool) -> str:
        """The command as typed, in one canonical order, its values quoted; the reason is journaled apart."""
        words = ["offboard", *self.words.split(), self.stack]
        words += [part for name, value in self.args.items() for part in (f"--{name}", value)]
        return shlex.join([*words, *self.flags, *(["--outside-runbook"] if outside_runbook else [])])

    def matches(self, step: Step) -> bool:
        """Whether `step` does exactly this. A step arg the command does not take is one its stage
        does not read either (verify's delivery: it verifies against every committed delivery)."""
        return (step.kind is Kind.automated and step.action == self.action
                and all(step.args.get(name) == value for name, value in self.args.items()))


@dataclass(frozen=True)
class UnderWay:
    """The last delivery the runbook has begun, and the first of its steps not done (None: all are)."""

    workflow: Workflow
    at: str | None

    def refusal(self, stack: str) -> str:
        if self.at is None:
            return (f"stack {stack}: the {self.workflow.name} delivery is done; to change its bucket or targets anyway, "
                    "pass --outside-runbook --reason TEXT")
        return (f"stack {stack}: the {self.workflow.name} delivery is in progress (at {self.at}); run it through "
                "`offboard runbook run`, or pass --outside-runbook --reason TEXT")


def run_by_hand(project: Project, command: HandCommand, stage: Callable[[], Result], *, backend: str | None,
                outside_runbook: bool = False, reason: str | None = None, dry_run: bool = False,
                warn: Callable[[str], None] = lambda message: None, outputs: OutputsLoader | None = None) -> Result:
    """Run `stage` (the command's work; it returns figures, or a report with `figures()`) as the
    journal's record of `command`, or refuse in one line. `backend` is the one asked for (None: the
    stack's own), for the copy of the journal in its bucket (tests pass `outputs` instead); a copy
    that fails is one warning through `warn`."""
    if dry_run:
        return stage()
    customer = load_customer(project, command.stack)
    known = KnownOutputs(outputs or outputs_of(project, customer, backend))

    def sensitive() -> Sensitive:  # asked again after the stage, which may have made the key reachable
        return secrets_of(customer, reachable(known))

    reason = checked_reason(outside_runbook, reason, sensitive)
    journal = Journal.of_stack(project, command.stack, mirror=into_bucket(known.get))
    runbook = load_runbook(project, customer, None)
    with journal.lock():
        under_way = delivery_under_way(runbook, journal)
        step = matching_step(command, runbook, journal, under_way)
        next_due = step is not None and not runbook.closed_gates(step.id, done_steps(journal.latest()))
        if command.changes and under_way and not outside_runbook and not next_due:
            raise OffboardError(under_way.refusal(command.stack))
        if command.changes:
            refuse_if_busy(project, command.stack)
        line = journal_line(command, step, runbook, under_way, typed=command.typed(outside_runbook), reason=reason)
        start = utc_now()
        journal.append(line("started", start=start))
        try:
            result = stage()
        except Exception as failure:  # journaled as the engine does, then raised as it was; a kill is not caught
            journal.append(line("failed", start=start, end=utc_now(), error=sensitive().redact(error_text(failure))))
            mirror(journal, sensitive, lambda message: None)  # a failed command says one line: its own error
            raise
        journal.append(line("done", start=start, end=utc_now(), figures=sensitive().redact_figures(figures_of(result))))
        mirror(journal, sensitive, warn)
    return result


def refuse_if_busy(project: Project, stack: str) -> None:
    """Refuse before the first journal line while another command changes the stack (`stack up`
    takes the stages' lock, not the journal's). The stage takes that lock itself when it runs: a
    lock is not taken twice, and with the journal's held no runbook command can slip in between."""
    with Runtime(project, stack, None).changing():
        pass


def checked_reason(outside_runbook: bool, reason: str | None, sensitive: Callable[[], Sensitive]) -> str | None:
    if not outside_runbook and not (reason or "").strip():
        return None
    reason = said(reason, "--outside-runbook needs --reason TEXT: why it runs outside the runbook is journaled")
    sensitive().refuse(reason, "the reason")
    return reason


def delivery_under_way(runbook: Runbook, journal: Journal) -> UnderWay | None:
    """The last workflow with a line the runbook wrote for one of its steps (a hand run does not
    begin a delivery), and where it stands."""
    begun = journal.begun()
    name = next((name for name in reversed(WORKFLOWS) if name in begun), None)
    if name is None:
        return None
    workflow, done = runbook.workflow(name), done_steps(journal.latest())
    return UnderWay(workflow, next((step.id for step in workflow.steps if step.id not in done), None))


def journal_line(command: HandCommand, step: Step | None, runbook: Runbook, under_way: UnderWay | None, *,
                 typed: str, reason: str | None) -> Callable[..., Entry]:
    """How each of the hand run's lines is made: as the step it does, else under its action."""
    if step is not None:
        workflow, _ = runbook.find(step.id)
        identity = {"step": step.id, "workflow": workflow.name, "actor": step.actor.value, "kind": step.kind.value,
                    "action": step.action}
    else:
        identity = {"step": command.action, "workflow": workflow_of(command, runbook, under_way).name,
                    "actor": Actor.ch_msp.value, "kind": Kind.automated.value, "action": command.action}

    def line(status: str, **fields: Any) -> Entry:
        if fields.get("end"):
            fields["duration"] = seconds_between(fields["start"], fields["end"])
        return Entry(**identity, status=status, command=typed, reason=reason, **fields)

    return line


def matching_step(command: HandCommand, runbook: Runbook, journal: Journal, under_way: UnderWay | None) -> Step | None:
    """The step the command does when it is the next one due: of the delivery under way (before any,
    the initial), not done, every step before it done. None otherwise: a hand run ahead of its turn
    (a fix-up of staging before the delta's rows are there) must not let the runbook skip that step
    later, and one of another delivery is never taken (a verify of production during the initial
    delivery is not the delta's `verify-production`)."""
    workflow = under_way.workflow if under_way else runbook.workflow(WORKFLOWS[0])
    done = done_steps(journal.latest())
    return next((step for step in workflow.steps
                 if command.matches(step) and step.id not in done and not undone_before(workflow, step, done)), None)


def workflow_of(command: HandCommand, runbook: Runbook, under_way: UnderWay | None) -> Workflow:
    """The delivery a command belongs to: its `delivery` (initial, else a delta's), else the one
    under way, else the first workflow with a step of its action."""
    delivery = command.args.get("delivery")
    if delivery:
        return runbook.workflow(WORKFLOWS[0] if delivery == WORKFLOWS[0] else WORKFLOWS[1])
    if under_way:
        return under_way.workflow
    with_action = [name for name in WORKFLOWS if any(step.action == command.action for step in runbook.workflow(name).steps)]
    return runbook.workflow((with_action or list(WORKFLOWS))[0])


def reachable(known: KnownOutputs) -> StackOutputs | None:
    """The outputs if the backend answers: a backend that cannot be reached leaves only the passwords to scrub."""
    try:
        return known.get()
    except OffboardError:
        return None


def mirror(journal: Journal, sensitive: Callable[[], Sensitive], warn: Callable[[str], None]) -> None:
    warning = journal.mirror()
    if warning:
        warn(sensitive().redact(warning))
