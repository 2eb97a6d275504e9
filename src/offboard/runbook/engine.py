"""Runs a workflow: machine steps through their rendered modules, people's steps by confirmation.

The journal is the state (offboard.runbook.journal). `run` walks the workflow in order: done
steps are passed; a machine step that is pending, was interrupted (Ctrl-C, a crash, a kill) or
waits on IBM runs; the walk stops at the first person's step not yet done (writing its texts),
at a failed step (until `retry`), at a step that still waits on IBM, at an interrupted one, or
after `until`. Gates are checked for the whole walk, and the rendered module of every machine
step of the workflow not yet done, before anything runs. `run_step` runs one machine step alone
(its module run by hand): in order, past its gates, journaled like any other. People's steps are
confirmed and revoked in offboard.runbook.people. Every line that changes a step's state is told
to `notify` (the stack's hooks), whose warnings join the outcome's.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Protocol

from offboard.errors import OffboardError, Waiting
from offboard.runbook.journal import Entry, Journal, Journaled, Status, seconds_between, step_state, utc_now
from offboard.runbook.leaks import Sensitive
from offboard.runbook.modules import ModuleInfo, Prepared
from offboard.runbook.outcome import GateView, Outcome, Plan, Reason, StepView
from offboard.runbook.texts import RenderedText
from offboard.runbook.workflow import Gate, Kind, Runbook, Step, Workflow

Notify = Callable[[str, Entry], "str | None"]  # (event, its journal line) -> a warning, or None
STOPS: dict[str, Reason] = {"failed": "failed", "waiting": "ibm", "interrupted": "interrupted"}


def no_notice(event: str, entry: Entry) -> None:
    return None


@dataclass(frozen=True)
class Walk:
    steps: list[Step]
    stop: Step | None
    reason: Reason
    message: str


class StepRunner(Protocol):
    """How machine steps run: `modules.RenderedModules`, or a stand-in in tests."""

    def module(self, workflow: Workflow, step: Step) -> ModuleInfo | None: ...

    def prepare(self, workflow: Workflow, step: Step) -> Prepared: ...


class Engine:
    def __init__(
        self,
        runbook: Runbook,
        journal: Journal,
        runner: StepRunner,
        write_texts: Callable[[Step], list[RenderedText]],
        sensitive: Callable[[], Sensitive],
        notify: Notify = no_notice,
    ) -> None:
        self.runbook = runbook
        self.journal = journal
        self.runner = runner
        self.write_texts = write_texts
        self.sensitive = sensitive  # asked each time: a run may provision the stack midway
        self.notify = notify

    def plan(self, name: str) -> Plan:
        workflow = self.runbook.workflow(name)
        gates = [*workflow.gates, *(gate for gate in self.runbook.advisories() if gate not in workflow.gates)]
        done = done_steps(self.journal.latest())
        return Plan(workflow=name, title=workflow.title, steps=self.views(name), gates=[gate_view(gate, done) for gate in gates])

    def views(self, name: str) -> list[StepView]:
        workflow = self.runbook.workflow(name)
        latest, locked = self.journal.latest(), self.journal.locked()
        done = done_steps(latest)
        return [self.view(workflow, step, latest.get(step.id), done, locked) for step in workflow.steps]

    def view(self, workflow: Workflow, step: Step, entry: Entry | None, done: set[str], locked: bool) -> StepView:
        journaled = entry.model_dump(include=set(Journaled.model_fields)) if entry else {}
        refused = None
        if step.kind is Kind.automated and not (entry and entry.status == "done"):
            info = self.runner.module(workflow, step)  # the module that will run it
            journaled.update(module=info.path if info else None, sha256=info.sha256 if info else None)
            refused = info.refused if info else "not rendered yet"
        return StepView(
            id=step.id, title=step.title, actor=step.actor.value, kind=step.kind.value, refused=refused,
            status=step_state(entry, locked), workflow=workflow.name, does=step.does, action=step.action,
            blocked_by=[gate.id for gate in self.runbook.closed_gates(step.id, done)],
            texts=[text.template for text in step.texts], **journaled,
        )

    def run(self, name: str, *, dry_run: bool = False, until: str | None = None) -> Outcome:
        workflow = self.runbook.workflow(name)
        if until and not workflow.has(until):
            raise OffboardError(f"step {until!r} is not in the {name} workflow")
        with nullcontext() if dry_run else self.journal.lock():
            latest = self.journal.latest()
            walk = self.walk(workflow, latest, until)
            self.check_gates([*walk.steps, *filter(None, [walk.stop])], done_steps(latest))
            self.check_modules(workflow, latest)
            outcome = Outcome(workflow=name, reason=walk.reason, message=walk.message, dry_run=dry_run,
                              stopped_at=walk.stop.id if walk.stop else None)
            if dry_run:
                outcome.steps = [step.id for step in walk.steps]
                return outcome
            for step in walk.steps:
                if self.execute(outcome, workflow, step, latest.get(step.id)).status != "done":
                    break
            else:  # every machine step of the walk succeeded
                if walk.reason == "person":
                    outcome.texts = self.write_texts(walk.stop)
                    if walk.stop.id not in latest:
                        self.write(outcome, entry_of(workflow, walk.stop, "waiting", start=utc_now()))
        return self.finish(outcome)

    def retry(self, step_id: str) -> Outcome:
        """Run one machine step again, whatever its last outcome, once it has run at least once."""
        return self.run_one(step_id, again=True)

    def run_step(self, step_id: str) -> Outcome:
        """Run one machine step alone, as its module run by hand does: only once every step
        before it in its workflow is done, and past its gates."""
        return self.run_one(step_id, again=False)

    def run_one(self, step_id: str, again: bool) -> Outcome:
        workflow, step = self.runbook.find(step_id)
        if step.kind is Kind.manual:
            raise OffboardError(f"{step.id} is done by {step.actor.value}: confirm it when it is done")
        with self.journal.lock():
            latest = self.journal.latest()
            done = done_steps(latest)
            if again and step.id not in latest:
                raise OffboardError(f"{step.id} has not run yet: run the {workflow.name} workflow")
            self.check_gates([step], done)
            before = undone_before(workflow, step, done)
            if before:
                raise OffboardError(f"{step.id} cannot run yet: {', '.join(before)} before it in the {workflow.name} "
                                    "workflow not done")
            self.runner.prepare(workflow, step)
            outcome = Outcome(workflow=workflow.name, reason="done", message=f"{step.id} done")
            self.execute(outcome, workflow, step, latest.get(step.id))
        return self.finish(outcome)

    def walk(self, workflow: Workflow, latest: dict[str, Entry], until: str | None) -> Walk:
        to_run: list[Step] = []
        for step in workflow.steps:
            entry = latest.get(step.id)
            if entry and entry.status == "done":
                pass
            elif step.kind is Kind.manual:
                return Walk(to_run, step, "person", f"waiting for {step.actor.value}: {step.title}; confirm {step.id} once it is done")
            elif entry and entry.status == "failed":
                return Walk(to_run, step, "failed", failed(step, entry))
            else:  # pending, interrupted, or waiting on IBM: it runs
                to_run.append(step)
            if step.id == until:
                return Walk(to_run, None, "until", f"stopped after {until}, as asked")
        return Walk(to_run, None, "complete", f"{workflow.title}: every step is done")

    def check_modules(self, workflow: Workflow, latest: dict[str, Entry]) -> None:
        """Refuse unless every machine step not yet done has its module, unchanged since rendered."""
        for step in workflow.steps:
            entry = latest.get(step.id)
            if step.kind is Kind.automated and not (entry and entry.status == "done"):
                self.runner.prepare(workflow, step)

    def check_gates(self, steps: Iterable[Step], done: set[str]) -> None:
        """Refuse unless every step's gates hold, counting the steps before it as done."""
        done = set(done)
        for step in steps:
            closed = self.runbook.closed_gates(step.id, done)
            if closed:
                gate = closed[0]
                waiting = ", ".join(ref for ref in gate.requires if ref not in done)
                raise OffboardError(f"{step.id} cannot start: {gate.title} (waiting for {waiting})")
            done.add(step.id)

    def execute(self, outcome: Outcome, workflow: Workflow, step: Step, previous: Entry | None) -> Entry:
        """Run one machine step and journal how it ended; a step that did not end done stops the outcome."""
        start, figures, error, note = utc_now(), {}, None, None
        ran_by: dict[str, Any] = {}
        status: Status = "done"
        # A step waiting on IBM only looks into the bucket: a look is journaled when it finds something new.
        looking_again = previous is not None and previous.status == "waiting"
        try:
            prepared = self.runner.prepare(workflow, step)  # again: the module may have changed since the walk began
            ran_by = {"module": prepared.module, "sha256": prepared.sha256}
            if not looking_again:
                self.journal.append(entry_of(workflow, step, "started", start=start, **ran_by))
            figures = dict(prepared.run() or {})
        except KeyboardInterrupt:  # Ctrl-C, or SIGTERM made the same (offboard.errors); a kill -9 is not caught
            status = "interrupted"
        except Waiting as waiting:
            status, note = "waiting", self.sensitive().redact(str(waiting))
        except Exception as failure:  # noqa: BLE001 - any failure of the step is journaled
            status, error = "failed", error_text(failure)
        sensitive = self.sensitive()
        entry = entry_of(workflow, step, status, start=start, end=utc_now(), **ran_by, note=note,
                         figures=sensitive.redact_figures(figures), error=sensitive.redact(error) if error else None)
        if looking_again and (status, note) == (previous.status, previous.note):
            entry = previous  # the same wait as at the last look: nothing new to journal or to tell
        else:
            self.write(outcome, entry)
        outcome.steps.append(step.id)
        if status != "done":
            outcome.stop(STOPS[status], step.id, stopped(step, entry))
        return entry

    def write(self, outcome: Outcome, entry: Entry) -> Entry:
        """Journal a line that changes a step's state, and tell the hooks of it."""
        self.journal.append(entry)
        outcome.entries.append(entry)
        warning = self.notify(event_of(entry), entry)
        if warning:
            outcome.warnings.append(self.sensitive().redact(warning))
        return entry

    def finish(self, outcome: Outcome) -> Outcome:
        warning = self.journal.mirror()
        if warning:
            outcome.warnings.append(self.sensitive().redact(warning))
        return outcome


def entry_of(workflow: Workflow, step: Step, status: Status, **fields: Any) -> Entry:
    if fields.get("start") and fields.get("end"):
        fields["duration"] = seconds_between(fields["start"], fields["end"])
    return Entry(step=step.id, workflow=workflow.name, actor=step.actor.value, kind=step.kind.value,
                 action=step.action, status=status, **fields)


def error_text(failure: Exception) -> str:
    """A step's failure as journaled: a user's error as it says, any other with its type (a bug)."""
    return str(failure) if isinstance(failure, OffboardError) else f"{type(failure).__name__}: {failure}"


def event_of(entry: Entry) -> str:
    """The event a hook is told: a person's step done is `confirmed`, else the line's status."""
    return "confirmed" if entry.status == "done" and entry.kind == Kind.manual.value else entry.status


def done_steps(latest: dict[str, Entry]) -> set[str]:
    return {step for step, entry in latest.items() if entry.status == "done"}


def undone_before(workflow: Workflow, step: Step, done: set[str]) -> list[str]:
    """The steps before `step` in its workflow that are not done, in order."""
    return [earlier.id for earlier in workflow.steps[:workflow.position(step.id)] if earlier.id not in done]


def gate_view(gate: Gate, done: set[str]) -> GateView:
    return GateView(id=gate.id, title=gate.title, before=gate.before, requires=list(gate.requires),
                    waiting_for=[ref for ref in gate.requires if ref not in done])


def failed(step: Step, entry: Entry) -> str:
    """What a failed step says, now or when a later run finds it so: when, why, and what to do."""
    when = f" at {entry.end:%Y-%m-%d %H:%M} UTC" if entry.end else ""
    return f"{step.id} failed{when}: {entry.error}; once the cause is fixed, `offboard runbook retry` it"


def stopped(step: Step, entry: Entry) -> str:
    """What a machine step that did not end done says."""
    if entry.status == "waiting":
        return f"waiting on IBM at {step.id}: {entry.note}; run again later, or with --wait"
    if entry.status == "interrupted":
        return f"interrupted during {step.id}; run again to resume"
    return failed(step, entry)
