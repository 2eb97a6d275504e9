"""People's steps: a confirmation that one is done, and its revocation, both journal lines.

A person's step is confirmed in its workflow's order: every step before it done, and its gates
open. Confirming it earlier takes `--out-of-order` and a reason, journaled with the step that was
skipped. A revocation never edits the journal: it appends a `revoked` line for the step and for
every later step of its workflow that was done, which makes them pending again (people confirm
them again, `run` runs the machine steps again). Who, the note, the reference and the reason are
refused when they carry the key or a password, as every text is.
"""

from __future__ import annotations

from offboard.errors import OffboardError
from offboard.runbook.engine import Engine, done_steps, entry_of, undone_before
from offboard.runbook.journal import utc_now
from offboard.runbook.outcome import Outcome
from offboard.runbook.workflow import Kind, Step, Workflow
from offboard.validation import said

MAX_REF = 64


def confirm(engine: Engine, step_id: str, by: str, note: str | None = None, *, ref: str | None = None,
            out_of_order: bool = False, reason: str | None = None) -> Outcome:
    workflow, step = person_step(engine, step_id, "run performs it, it is not confirmed")
    engine.sensitive().refuse("\n".join(filter(None, [by, note, ref, reason])), f"the confirmation of {step.id}")
    by, note, reason = said(by, f"say who confirms {step.id}: --by NAME"), optional(note, "--note"), optional(reason, "--reason")
    ref = checked_ref(ref)
    if out_of_order and not reason:
        raise OffboardError(f"--out-of-order needs --reason TEXT: say why {step.id} is confirmed before the steps ahead of it")
    if reason and not out_of_order:
        raise OffboardError("--reason goes with --out-of-order; a remark on the confirmation goes in --note")
    with engine.journal.lock():
        latest = engine.journal.latest()
        previous, done = latest.get(step.id), done_steps(latest)
        if previous and previous.status == "done":
            raise OffboardError(f"{step.id} was already confirmed by {previous.confirmed_by} at {previous.end:%Y-%m-%d %H:%M} UTC")
        engine.check_gates([step], done)
        skipped = undone_before(workflow, step, done)
        if skipped and not out_of_order:
            raise OffboardError(f"{step.id} cannot be confirmed yet: {skipped[0]} before it is not done; confirm in order, "
                                f"or add --out-of-order --reason TEXT")
        end = utc_now()
        outcome = Outcome(workflow=workflow.name, reason="confirmed", steps=[step.id],
                          message=f"{step.id} confirmed by {by}; `offboard runbook run` goes on from here and writes the "
                                  f"texts of the next person's step")
        engine.write(outcome, entry_of(workflow, step, "done", confirmed_by=by, note=note, ref=ref,
                                       reason=f"confirmed before {skipped[0]} was done: {reason}" if skipped else None,
                                       start=previous.start if previous else end, end=end))
    if out_of_order and not skipped:
        outcome.warnings.append(f"{step.id} was in order: --out-of-order changed nothing and its reason was not journaled")
    return engine.finish(outcome)


def revoke(engine: Engine, step_id: str, by: str, reason: str) -> Outcome:
    workflow, step = person_step(engine, step_id, "only a person's confirmation is revoked; `retry` runs a machine step again")
    by, reason = said(by, f"say who revokes {step.id}"), said(reason, f"say why {step.id} is revoked: --reason TEXT")
    engine.sensitive().refuse(f"{by}\n{reason}", f"the revocation of {step.id}")
    with engine.journal.lock():
        done = done_steps(engine.journal.latest())
        if step.id not in done:
            raise OffboardError(f"{step.id} is not done: there is no confirmation to revoke")
        begun = later_delivery_begun(engine, workflow)
        if begun:
            raise OffboardError(f"{step.id} belongs to the {workflow.name} delivery and the {begun} delivery has begun: "
                                f"redoing it would write over targets the {begun} delivery has changed; revoke a step of the "
                                f"{begun} delivery instead")
        later = [after for after in workflow.steps[workflow.position(step.id) + 1:] if after.id in done]
        now = utc_now()
        outcome = Outcome(workflow=workflow.name, reason="revoked", message=revoked_message(step, by, later))
        engine.write(outcome, entry_of(workflow, step, "revoked", confirmed_by=by, reason=reason, start=now, end=now))
        for after in later:
            engine.write(outcome, entry_of(workflow, after, "revoked", confirmed_by=by, start=now, end=now,
                                           reason=f"{step.id} revoked: {reason}"))
        outcome.steps = [step.id, *(after.id for after in later)]
    return engine.finish(outcome)


def later_delivery_begun(engine: Engine, workflow: Workflow) -> str | None:
    """The first delivery after `workflow` that the runbook has written a line of (a hand run begins none)."""
    names, begun = list(engine.runbook.workflows), engine.journal.begun()
    return next((name for name in names[names.index(workflow.name) + 1:] if name in begun), None)


def person_step(engine: Engine, step_id: str, machine: str) -> tuple[Workflow, Step]:
    workflow, step = engine.runbook.find(step_id)
    if step.kind is Kind.automated:
        raise OffboardError(f"{step.id} is a machine step: {machine}")
    return workflow, step


def optional(text: str | None, option: str) -> str | None:
    """A note or reason when one is given: readable words, else refused."""
    return said(text, f"{option} says nothing readable: write it in words") if text and text.strip() else None


def checked_ref(ref: str | None) -> str | None:
    """A case or ticket number as given (CS0012345): a short token, printable, without spaces."""
    if ref is None:
        return None
    if not 0 < len(ref) <= MAX_REF or not ref.isprintable() or any(char.isspace() for char in ref):
        raise OffboardError(f"--ref takes the case or ticket number as one word of 1 to {MAX_REF} printable "
                            "characters, such as CS0012345")
    return ref


def revoked_message(step: Step, by: str, later: list[Step]) -> str:
    again = f"; pending again after it: {', '.join(after.id for after in later)}" if later else ""
    return f"{step.id} revoked by {by}: confirm it again once it is done{again}"
