"""`offboard db accept-unmapped`: the operator accepts user ids the fix-up of a target could not
map (people who left the company, say), so that verify no longer fails on them. Unmapped users
are a decision, not a count: the acceptance is a line in the stack's journal with who, when, why
and which ids, and only ids the last fix-up of that target lists as unmapped can be accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from offboard.customer import load_customer
from offboard.db.stages import TARGETS
from offboard.errors import OffboardError
from offboard.fixup.report import FixupReport, report_path
from offboard.fixup.unmapped import FixupFacts, decide, named
from offboard.project import Project, read_utf8
from offboard.runbook.commands import KnownOutputs, OutputsLoader, outputs_of
from offboard.runbook.journal import Acceptance, Journal, utc_now
from offboard.runbook.modules import secrets_of
from offboard.runbook.mirror import into_bucket
from offboard.validation import said

ACCEPT_STEP = "accept-unmapped"  # the journal line's step: a decision, not a step of a workflow
ACCEPT_WORKFLOW = "delta"  # the fix-up runs in the delta delivery


@dataclass(frozen=True)
class Accepted:
    line: Acceptance  # as journaled
    facts: FixupFacts  # the target's last fix-up, with this acceptance
    warning: str | None  # the journal could not be mirrored into the bucket


def read_ids(path: Path) -> list[str]:
    """The ids of a file, one a line, each once; `#` starts a comment, blank lines are skipped."""
    shown = f"the list of ids {path}"
    lines = read_utf8(path, shown).removeprefix("\ufeff").splitlines()
    ids = list(dict.fromkeys(filter(None, (line.split("#", 1)[0].strip() for line in lines))))
    if not ids:
        raise OffboardError(f"{shown} names no id: write one id a line (`#` starts a comment)")
    return ids


def accept_unmapped(project: Project, stack: str, target: str, ids: list[str], *, reason: str, by: str, backend: str | None,
                    outputs: OutputsLoader | None = None) -> Accepted:
    """Journal the acceptance of `ids`, each unmapped in the last fix-up of `target`; anything
    else is refused and nothing is written. A reason or name holding the stack's key or a database
    password is refused, as `runbook confirm` refuses it."""
    by = said(by, "say who accepts the unmapped users: --by NAME")
    reason = said(reason, "say why the unmapped users are accepted: --reason TEXT")
    ids = list(dict.fromkeys(ids))
    if not ids:
        raise OffboardError("no id to accept: the list is empty")
    customer = load_customer(project, stack)
    report = last_report(project, stack, target)
    unmapped = set(report.unmapped_ids)
    unknown = [user_id for user_id in ids if user_id not in unmapped]
    if unknown:
        one = len(unknown) == 1
        raise OffboardError(f"{named(unknown)} {'is' if one else 'are'} not unmapped in the last fix-up of {target}: take "
                            f"{'it' if one else 'them'} out of the list, or run the fix-up first; nothing was accepted")
    known = KnownOutputs(outputs or outputs_of(project, customer, backend))
    sensitive = secrets_of(customer, known.get())  # the key and the databases' passwords
    sensitive.refuse(f"{by}\n{reason}", f"the acceptance of unmapped users of {target}")
    journal = Journal.of_stack(project, stack, mirror=into_bucket(known.get))
    with journal.lock():
        now = utc_now()
        line = journal.append(Acceptance(step=ACCEPT_STEP, workflow=ACCEPT_WORKFLOW, actor="ch-msp", kind="manual",
                                         target=target, ids=ids, reason=reason, confirmed_by=by, start=now, end=now))
        facts = decide(report, journal.acceptances(), target)
    warning = journal.mirror()
    return Accepted(line, facts, sensitive.redact(warning) if warning else None)


def last_report(project: Project, stack: str, target: str) -> FixupReport:
    """The report of the target's last fix-up, unless there is none or it was a dry run."""
    if target not in TARGETS:
        raise OffboardError(f"unknown target {target!r}: choose {' or '.join(TARGETS)}")
    path = report_path(project.stack_state_dir(stack), target)
    run_it = f"run `offboard db fixup {stack} --target {target}` first"
    if not path.is_file():
        raise OffboardError(f"no fix-up of {target} since its last import, so no unmapped user to accept: {run_it}")
    report = FixupReport.load(path)
    if report.dry_run:
        raise OffboardError(f"the last fix-up of {target} was a dry run: {run_it}")
    return report
