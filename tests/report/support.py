"""A realistic journal of test customer alpha: both deliveries over six weeks, people waiting days,
machine steps of seconds, a failed export, an interrupted import, an out-of-order confirmation,
a revoked one, a stage command run by hand, unmapped users (one accepted), and a teardown."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from offboard.customer import load_customer
from offboard.fixup.report import FixupReport, Place, Unmapped, report_path
from offboard.project import Project
from offboard.runbook.journal import Acceptance, Entry, Journal, Recorded
from offboard.runbook.workflow import load_runbook
from offboard.teardown import DONE_FILE
from tests.runbook.support import KEY_ID, STACK

START = datetime(2026, 9, 7, 9, 0, tzinfo=UTC)  # a Monday
DELTA_START = START + timedelta(weeks=5)
FAILED_ERROR = "connection to the bucket reset by peer\nTraceback (most recent call last): ..."
OUT_OF_ORDER = "the customer checked staging on a call before the verification ran"
REVOKED = "confirmed on the wrong case"
UNMAPPED = ("cloud-user-7", "cloud-user-9")
FIGURES = {
    "check-catalog": {"checked": ["source", "staging", "production"], "tables": 195, "blocks": 0},
    "provision": {"bucket": "offboard-alpha-20011111", "user": "offboard-alpha", "access_key_id": KEY_ID},
    "export-files": {"delivery": "initial", "files": 12_345, "deleted": 0, "archives_sent": 9, "bytes_sent": 8_400_000_000},
    "export-db": {"delivery": "initial", "tables": 65, "rows": 1_250_000, "deleted": 0, "files_sent": 215, "bytes_sent": 310_000_000},
    "export-delta-files": {"delivery": "delta-1", "files": 321, "deleted": 12, "archives_sent": 1, "bytes_sent": 95_000_000},
    "export-delta-db": {"delivery": "delta-1", "tables": 65, "rows": 4_210, "deleted": 54, "files_sent": 203, "bytes_sent": 2_700_000},
    "verify-staging": {"target": "staging", "files": 12_345, "files_ok": True, "rows": 1_250_000, "rows_ok": True},
}
REFS = {"open-initial-case": "CS0012345", "open-delta-case": "CS0067890", "file-transfer-ticket": "JIRA-4711"}
CUTOVER = date(2026, 10, 19)
PEOPLE_DAYS = {"select-msp": 3, "create-box-folder": 4, "customer-verifies-staging": 5, "agree-cutover-date": 2,
               "mark-read-only": 3, "customer-confirms-delta": 2}  # the other people's steps take hours
MACHINE_SECONDS = {"export-files": 5400.0, "export-db": 1800.0, "download": 2400.0, "provision": 3.0}


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def after(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def line(step, status: str, start: datetime, end: datetime | None = None, **fields) -> Entry:
    duration = round((end - start).total_seconds(), 3) if end else None
    return Entry(step=step.id, workflow=fields.pop("workflow"), actor=step.actor.value, kind=step.kind.value,
                 action=step.action, status=status, start=start, end=end, duration=duration, **fields)


def write_six_week_journal(project: Project) -> Journal:
    """Both workflows walked to the end, with the detours above; times are fixed, so is the report."""
    runbook = load_runbook(project, load_customer(project, STACK), None)
    journal = Journal.of_stack(project, STACK)
    for workflow, clock in (("initial", Clock(START)), ("delta", Clock(DELTA_START))):
        for step in runbook.workflow(workflow).steps:
            walk_step(journal, workflow, step, clock)
            clock.after(minutes=10)
    teardown = journal.latest()["teardown"]
    journal.append(Acceptance(step="accept-unmapped", workflow="delta", actor="ch-msp", kind="manual", target="production",
                              ids=[UNMAPPED[0]], reason="left the company before the move", confirmed_by="Ann Operator",
                              start=DELTA_START + timedelta(days=3), end=DELTA_START + timedelta(days=3)))
    write_side_records(project, teardown.end)
    return journal


def walk_step(journal: Journal, workflow: str, step, clock: Clock) -> None:
    if step.kind.value == "manual":
        confirm_step(journal, workflow, step, clock)
        return
    if step.id == "export-db":  # failed once, retried two hours later
        began = clock.now
        journal.append(line(step, "started", began, workflow=workflow))
        journal.append(line(step, "failed", began, clock.after(minutes=3), workflow=workflow, error=FAILED_ERROR))
        clock.after(hours=2)
    if step.id == "import-db-staging":  # Ctrl-C, then run again
        began = clock.now
        journal.append(line(step, "started", began, workflow=workflow))
        journal.append(line(step, "interrupted", began, clock.after(minutes=1), workflow=workflow))
        clock.after(minutes=20)
    if step.id == "export-delta-files":  # IBM's side: the step waits for the delivery to appear in the bucket
        journal.append(line(step, "waiting", clock.now, workflow=workflow))
        clock.after(days=1, hours=4)
    began = clock.now
    journal.append(line(step, "started", began, workflow=workflow))
    end = clock.after(seconds=MACHINE_SECONDS.get(step.id, 3.0))
    journal.append(line(step, "done", began, end, workflow=workflow, figures=FIGURES.get(step.id, {"bytes": 1024}),
                        sha256="ab" * 32, module=f".offboard/stacks/{STACK}/modules/{workflow}/{step.id}.py"))
    if step.id == "import-delta-db-staging":  # the same stage run by hand, journaled, outside the runbook
        journal.append(line(step, "done", clock.now, clock.after(seconds=40), workflow=workflow, figures={"rows": 4_210},
                            command=f"offboard db import {STACK} --target staging --delivery delta",
                            reason="re-run after the DBA restored staging"))


def confirm_step(journal: Journal, workflow: str, step, clock: Clock) -> None:
    waiting = clock.now
    journal.append(line(step, "waiting", waiting, workflow=workflow))
    fields = {"confirmed_by": "Jane Doe (MSP)", "ref": REFS.get(step.id),
              "note": f"done for {step.id}" if step.actor.value == "customer" else None}
    if step.id == "customer-verifies-staging":
        fields.update(confirmed_by="Max Muster (Alpha)", reason=OUT_OF_ORDER)
    if step.id == "agree-cutover-date":
        journal.append(Recorded(step="record", workflow=workflow, actor="ch-msp", kind="manual", confirmed_by="Jane Doe (MSP)",
                                start=clock.now, end=clock.now, cutover=CUTOVER, tickets={"delta": "JIRA-4712"}))
    if step.id == "close-initial-case":
        journal.append(line(step, "done", waiting, clock.after(hours=5), workflow=workflow, **fields))
        journal.append(line(step, "revoked", clock.now, clock.after(minutes=30), workflow=workflow,
                            confirmed_by="Jane Doe (MSP)", reason=REVOKED))
    journal.append(line(step, "done", waiting, clock.after(days=PEOPLE_DAYS.get(step.id, 0), hours=5), workflow=workflow, **fields))


def write_side_records(project: Project, torn_down: datetime) -> None:
    """What the fix-up, verification and teardown leave in the stack's state folder."""
    state = project.stack_state_dir(STACK)
    report = FixupReport(org_id="700001", dry_run=False, created="2026-10-14T10:00:00Z", tables=[],
                         unmapped=[Unmapped(id=user, places=[Place(table="EMPINST.EMPLOYEE", column="PROF_GUID", rows=2)])
                                   for user in UNMAPPED])
    report.save(report_path(state, "production"))
    (state / "verify-db-production.json").write_text(json.dumps({"ok": False, "tables_ok": True, "unmapped_open": [UNMAPPED[1]]}))
    (state / "verify-files-production.json").write_text(json.dumps({"ok": True}))
    (state / DONE_FILE).write_text(json.dumps({
        "archive": str(state / "archive" / "alpha-20011111-20261019T101500Z.tar.gz"), "sha256": "c0ffee" * 10 + "abcd",
        "objects_deleted": 1_874, "bucket": "offboard-alpha-20011111", "finished": torn_down.isoformat(),
        "key_refused_at": torn_down.isoformat()}))
