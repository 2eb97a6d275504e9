"""The facts of one stack's migration, gathered from its journal (steps, confirmations, records),
its settings, the fix-up and verification reports and the teardown record. Nothing here is a
secret: the journal is redacted when written, and the reports hold counts, people's ids and digests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from offboard.customer import Customer
from offboard.db.stages import TARGETS
from offboard.fixup.unmapped import FixupFacts, last_fixup
from offboard.project import Project
from offboard.report.formats import first_line
from offboard.report.model import (
    Attempt,
    Confirmation,
    People,
    ReportFacts,
    Span,
    TeardownProof,
    UnmappedUser,
)
from offboard.report.summary import EQUAL, moved, open_points, state_of
from offboard.runbook.journal import NO_STEP_STATE, Entry, Journal
from offboard.runbook.records import current
from offboard.runbook.workflow import WORKFLOWS, load_runbook
from offboard.teardown import DONE_FILE, TEARDOWN_STEP


def gather(project: Project, customer: Customer) -> ReportFacts:
    journal = Journal.of_stack(project, customer.stack)
    lines = journal.lines()
    runbook = load_runbook(project, customer, None)
    titles = {step.id: step.title for workflow in runbook.workflows.values() for step in workflow.steps}
    entries = [entry for entry in lines if entry.status not in NO_STEP_STATE]
    steps = spans(entries, titles)
    state = project.stack_state_dir(customer.stack)
    verifications = verified(state)
    people = [people_of(facts) for target in TARGETS if (facts := last_fixup(project, customer.stack, target))]
    proof = teardown_proof(state, entries)
    outcome, step, text = state_of(runbook, steps, proof)
    times = [moment for entry in lines if (moment := entry.end or entry.start)]
    return ReportFacts(
        customer=customer.customer_name, org_id=customer.org_id, target_org_id=customer.target_org_id, stack=customer.stack,
        first=min(times, default=None), last=max(times, default=None), records=current(journal),
        outcome=outcome, outcome_step=step, outcome_text=text, moved=moved(steps),
        open_points=open_points(steps, entries, people, verifications, proof),
        steps=steps, confirmations=confirmations(entries, titles),
        attempts=[attempt for span in steps for attempt in span.attempts], verifications=verifications,
        people=people, teardown=proof)


def spans(entries: list[Entry], titles: dict[str, str]) -> list[Span]:
    """One span per step with lines, initial first, each workflow in the order its steps began."""
    lines: dict[str, list[Entry]] = {}
    for entry in entries:
        lines.setdefault(entry.step, []).append(entry)
    made = [span_of(step, own, titles.get(step, step)) for step, own in lines.items()]
    order = {name: index for index, name in enumerate(WORKFLOWS)}
    return sorted(made, key=lambda span: (order.get(span.workflow, len(order)), span.first))


def span_of(step: str, lines: list[Entry], title: str) -> Span:
    last = lines[-1]
    done = last if last.status == "done" else None
    first = lines[0].start or lines[0].end
    attempts = [Attempt(step=step, workflow=line.workflow, status=line.status, at=line.end or line.start,
                        error=first_line(line.error)) for line in lines if line.status in ("failed", "interrupted")]
    return Span(step=step, title=title, workflow=last.workflow, actor=last.actor, kind=last.kind, action=last.action,
                status=last.status, first=first, start=done.start if done else None, end=done.end if done else None,
                seconds=done.duration if done and last.kind == "automated" else None,
                confirmed_by=done.confirmed_by if done else None, figures=done.figures if done else {},
                module_sha256=done.sha256 if done else None, command=last.command, attempts=attempts,
                revoked=[line.end or line.start for line in lines if line.status == "revoked"])


def confirmations(entries: list[Entry], titles: dict[str, str]) -> list[Confirmation]:
    """Every confirmation of a person's step and every revocation of one, in the journal's order."""
    return [Confirmation(step=entry.step, title=titles.get(entry.step, entry.step), workflow=entry.workflow,
                         actor=entry.actor, event="revoked" if entry.status == "revoked" else "confirmed",
                         by=entry.confirmed_by, at=entry.end or entry.start, note=entry.note, ref=entry.ref,
                         reason=entry.reason)
            for entry in entries
            if entry.kind == "manual" and entry.status in ("done", "revoked")]


def verified(state: Path) -> dict[str, str]:
    return {path.stem.removeprefix("verify-"): verdict(json.loads(path.read_text(encoding="utf-8")))
            for path in sorted(state.glob("verify-*.json"))}


def verdict(proof: dict[str, Any]) -> str:
    """What a verification proof says: equal, DIFFERENT, or equal rows with unmapped users open."""
    if proof["ok"]:
        return EQUAL
    if proof.get("tables_ok"):
        return f"rows equal, {len(proof['unmapped_open'])} unmapped user ids open"
    return "DIFFERENT"


def people_of(facts: FixupFacts) -> People:
    return People(target=facts.target, merged=facts.merged, guests=facts.guests, unmapped=[
        UnmappedUser(id=decision.user.id, places=[f"{place.table}.{place.column}: {place.rows}" for place in decision.user.places],
                     accepted_by=decision.acceptance.confirmed_by if decision.acceptance else None,
                     accepted_at=decision.acceptance.end if decision.acceptance else None,
                     reason=decision.acceptance.reason if decision.acceptance else None)
        for decision in facts.decisions])


def teardown_proof(state: Path, entries: list[Entry]) -> TeardownProof | None:
    record = state / DONE_FILE
    if not record.is_file():
        return None
    done = json.loads(record.read_text(encoding="utf-8"))
    line = next((entry for entry in reversed(entries) if entry.step == TEARDOWN_STEP and entry.status == "done"), None)
    return TeardownProof(finished=done["finished"], bucket=done["bucket"], objects_deleted=done["objects_deleted"],
                         key_refused_at=done["key_refused_at"], archive=Path(done["archive"]).name, sha256=done["sha256"], forced=line.note if line else None)
