"""The summary's facts: the outcome, what each delivery moved, and the points a reader must not miss."""

from __future__ import annotations

from offboard.report.formats import when
from offboard.report.model import Moved, People, Span, TeardownProof
from offboard.runbook.journal import Entry
from offboard.runbook.workflow import WORKFLOWS, Runbook

EQUAL = "equal"  # a verification's verdict when the target holds exactly the org's data


def moved(steps: list[Span]) -> list[Moved]:
    """Per delivery, what its export steps sent (or IBM's, as it arrived): files, rows, bytes."""
    totals = []
    for workflow in WORKFLOWS:
        exports = [span for span in steps if span.workflow == workflow and span.action in ("files.export", "db.export")]
        if exports:
            totals.append(Moved(delivery=workflow,
                                files=sum(span.figures.get("files", 0) for span in exports if span.action == "files.export"),
                                rows=sum(span.figures.get("rows", 0) for span in exports if span.action == "db.export"),
                                bytes=sum(span.figures.get("bytes_sent", span.figures.get("bytes", 0)) for span in exports)))
    return totals


def state_of(runbook: Runbook, steps: list[Span], proof: TeardownProof | None) -> tuple[str, str | None, str]:
    """complete, failed at a step, in progress at the first step not done, or not started."""
    latest = {span.step: span for span in steps}
    failed = next((span for span in steps if span.status == "failed"), None)
    if failed:
        return "failed", failed.step, f"failed at {failed.step}: {failed.attempts[-1].error}"
    if proof:
        return "complete", None, f"complete: torn down on {when(proof.finished)} UTC"
    ordered = [step for name in WORKFLOWS for step in runbook.workflow(name).steps]
    waiting = next((step for step in ordered if step.id not in latest or latest[step.id].status != "done"), None)
    if waiting is None:
        return "complete", None, "complete"
    if not steps:
        return "not started", None, "not started"
    since = latest[waiting.id].first if waiting.id in latest else None
    status = latest[waiting.id].status if waiting.id in latest else "pending"
    return "in progress", waiting.id, (f"in progress at {waiting.id} ({waiting.title}), {status}, on {waiting.actor.value}"
                                       + (f" since {when(since)} UTC" if since else ""))


def open_points(steps: list[Span], entries: list[Entry], people: list[People], verifications: dict[str, str],
                proof: TeardownProof | None) -> list[str]:
    """What a reader must know is not plain: open or accepted users, failures, bent order, overrides."""
    points = []
    for facts in people:
        if facts.open:
            points.append(f"{len(facts.open)} unmapped user id(s) in {facts.target} open: not yet mapped nor accepted")
        if facts.accepted:
            reasons = "; ".join(dict.fromkeys(user.reason for user in facts.unmapped if user.reason))
            points.append(f"{len(facts.accepted)} unmapped user id(s) in {facts.target} accepted as they are ({reasons})")
    for span in steps:
        if span.status in ("failed", "interrupted") and span.attempts:
            attempt = span.attempts[-1]
            points.append(f"{span.step} {attempt.status} at {when(attempt.at)} UTC" + (f": {attempt.error}" if attempt.error else ""))
    for entry in entries:
        moment = when(entry.end or entry.start)
        if entry.status == "done" and entry.kind == "manual" and entry.reason:
            points.append(f"{entry.step} confirmed out of order by {entry.confirmed_by} at {moment} UTC: {entry.reason}")
        elif entry.status == "revoked":
            points.append(f"{entry.step} revoked by {entry.confirmed_by} at {moment} UTC" + (f": {entry.reason}" if entry.reason else ""))
        elif entry.command and entry.reason and entry.status == "done":
            points.append(f"`{entry.command}` run outside the runbook at {moment} UTC: {entry.reason}")
    points += [f"verification of {name}: {verdict}" for name, verdict in verifications.items() if verdict != EQUAL]
    if proof and proof.forced:
        points.append(f"teardown {proof.forced}")
    return points
