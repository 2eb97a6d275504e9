"""Runs a workflow: machine steps through their rendered modules, people's steps by confirmation.

The journal is the state: a step is pending until it has a line, then it is what its last
line says. `run` walks the workflow in order: done steps are passed; a machine step that is
pending, or was interrupted (`started` and no end: a crash, a kill), runs; the walk stops at
the first person's step not yet done (writing its texts), at a failed step (until `retry`),
or after `until`. Gates are checked for the whole walk, and the rendered module of every
machine step of the workflow not yet done, before anything runs. `run_step` runs one machine
step alone (its module run by hand): in order, past its gates, journaled like any other.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Literal, Protocol

from pydantic import BaseModel

from offboard.errors import OffboardError
from offboard.runbook.journal import Entry, Journal, Journaled, Status, utc_now
from offboard.runbook.leaks import Sensitive
from offboard.runbook.modules import ModuleInfo, Prepared
from offboard.runbook.texts import RenderedText
from offboard.runbook.workflow import Gate, Kind, Runbook, Step, Workflow

PENDING = "pending"
Reason = Literal["person", "failed", "until", "complete", "confirmed", "done"]
FINE = {"person", "until", "complete", "confirmed", "done"}


class StepView(Journaled):
    """One step as plan and status show it: the workflow's definition and its last journal line."""

    id: str
    title: str
    actor: str
    kind: str
    status: str
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
    steps: list[str] = []  # the steps run, or with dry_run those that would run
    entries: list[Entry] = []  # the journal lines this command wrote
    texts: list[RenderedText] = []
    warnings: list[str] = []

    @property
    def ok(self) -> bool:
        return self.reason in FINE


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
    ) -> None:
        self.runbook = runbook
        self.journal = journal
        self.runner = runner
        self.write_texts = write_texts
        self.sensitive = sensitive  # asked each time: a run may provision the stack midway

    def plan(self, name: str) -> Plan:
        workflow = self.runbook.workflow(name)
        gates = [*workflow.gates, *(gate for gate in self.runbook.advisories() if gate not in workflow.gates)]
        done = done_steps(self.journal.latest())
        return Plan(workflow=name, title=workflow.title, steps=self.views(name), gates=[gate_view(gate, done) for gate in gates])

    def views(self, name: str) -> list[StepView]:
        workflow = self.runbook.workflow(name)
        latest = self.journal.latest()
        done = done_steps(latest)
        return [self.view(workflow, step, latest.get(step.id), done) for step in workflow.steps]

    def view(self, workflow: Workflow, step: Step, entry: Entry | None, done: set[str]) -> StepView:
        journaled = entry.model_dump(include=set(Journaled.model_fields)) if entry else {}
        refused = None
        if step.kind is Kind.automated and not (entry and entry.status == "done"):
            info = self.runner.module(workflow, step)  # the module that will run it
            journaled.update(module=info.path if info else None, sha256=info.sha256 if info else None)
            refused = info.refused if info else "not rendered yet"
        return StepView(refused=refused, 
            id=step.id, title=step.title, actor=step.actor.value, kind=step.kind.value,
            status=entry.status if entry else PENDING, workflow=workflow.name, does=step.does, action=step.action,
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
            stopped_at = walk.stop.id if walk.stop else None
            if dry_run:
                return Outcome(workflow=name, reason=walk.reason, message=walk.message, stopped_at=stopped_at,
                               dry_run=True, steps=[step.id for step in walk.steps])
            outcome = Outcome(workflow=name, reason=walk.reason, message=walk.message, stopped_at=stopped_at)
            for step in walk.steps:
                entry = self.execute(workflow, step)
                outcome.steps.append(step.id)
                outcome.entries.append(entry)
                if entry.status == "failed":
                    outcome.reason, outcome.stopped_at, outcome.message = "failed", step.id, failed(step, entry)
                    break
            else:  # every machine step of the walk succeeded
                if walk.reason == "person":
                    outcome.texts = self.write_texts(walk.stop)
                    if walk.stop.id not in latest:
                        outcome.entries.append(self.journal.append(entry_of(workflow, walk.stop, "waiting", start=utc_now())))
        return self.finish(outcome)

    def confirm(self, step_id: str, by: str, note: str | None = None) -> Outcome:
        workflow, step = self.runbook.find(step_id)
        if step.kind is Kind.automated:
            raise OffboardError(f"{step.id} is a machine step: run performs it, it is not confirmed")
        by, note = by.strip(), (note or "").strip() or None
        if not by:
            raise OffboardError(f"say who confirms {step.id}")
        self.sensitive().refuse(f"{by}\n{note or ''}", f"the confirmation of {step.id}")
        with self.journal.lock():
            latest = self.journal.latest()
            previous = latest.get(step.id)
            if previous and previous.status == "done":
                raise OffboardError(f"{step.id} was already confirmed by {previous.confirmed_by} at {previous.end:%Y-%m-%d %H:%M} UTC")
            self.check_gates([step], done_steps(latest))
            end = utc_now()
            entry = self.journal.append(entry_of(workflow, step, "done", confirmed_by=by, note=note,
                                                 start=previous.start if previous else end, end=end))
        return self.finish(Outcome(workflow=workflow.name, reason="confirmed", message=f"{step.id} confirmed by {by}",
                                   steps=[step.id], entries=[entry]))

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
            before = [earlier.id for earlier in workflow.steps[:workflow.position(step.id)] if earlier.id not in done]
            if before:
                raise OffboardError(f"{step.id} cannot run yet: {', '.join(before)} before it in the {workflow.name} "
                                    "workflow not done")
            self.runner.prepare(workflow, step)
            entry = self.execute(workflow, step)
        if entry.status == "failed":
            outcome = Outcome(workflow=workflow.name, reason="failed", message=failed(step, entry), stopped_at=step.id)
        else:
            outcome = Outcome(workflow=workflow.name, reason="done", message=f"{step.id} done")
        outcome.steps, outcome.entries = [step.id], [entry]
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
            else:
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

    def execute(self, workflow: Workflow, step: Step) -> Entry:
        start, figures, error = utc_now(), {}, None
        ran_by: dict[str, Any] = {}
        try:
            prepared = self.runner.prepare(workflow, step)  # again: the module may have changed since the walk began
            ran_by = {"module": prepared.module, "sha256": prepared.sha256}
            self.journal.append(entry_of(workflow, step, "started", start=start, **ran_by))
            figures = dict(prepared.run() or {})
        except Exception as failure:  # noqa: BLE001 - any failure of the step is journaled; a kill is not caught
            error = str(failure) if isinstance(failure, OffboardError) else f"{type(failure).__name__}: {failure}"
        sensitive = self.sensitive()
        return self.journal.append(entry_of(
            workflow, step, "failed" if error else "done", start=start, end=utc_now(), **ran_by,
            figures=sensitive.redact_figures(figures),
            error=sensitive.redact(error) if error else None,
        ))

    def finish(self, outcome: Outcome) -> Outcome:
        warning = self.journal.mirror()
        if warning:
            outcome.warnings.append(self.sensitive().redact(warning))
        return outcome


def as_json(steps: Iterable[StepView]) -> list[dict[str, Any]]:
    """The `--json` form of plan and status: one object per step."""
    return [step.model_dump(mode="json") for step in steps]


def entry_of(workflow: Workflow, step: Step, status: Status, **fields: Any) -> Entry:
    if fields.get("start") and fields.get("end"):
        fields["duration"] = round((fields["end"] - fields["start"]).total_seconds(), 3)
    return Entry(step=step.id, workflow=workflow.name, actor=step.actor.value, kind=step.kind.value,
                 action=step.action, status=status, **fields)


def done_steps(latest: dict[str, Entry]) -> set[str]:
    return {step for step, entry in latest.items() if entry.status == "done"}


def gate_view(gate: Gate, done: set[str]) -> GateView:
    return GateView(id=gate.id, title=gate.title, before=gate.before, requires=list(gate.requires),
                    waiting_for=[ref for ref in gate.requires if ref not in done])


def failed(step: Step, entry: Entry) -> str:
    return f"{step.id} failed: {entry.error}; retry it once the cause is fixed"
