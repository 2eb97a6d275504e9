"""The stack's references: the support case number of each delivery, the ticket numbers by name,
and the agreed cut-over date, for the texts people send and the report.

They come from two kinds of journal lines: `offboard runbook record` (a `Recorded` line), and the
confirmation of a step that opens a case or files a ticket with `--ref` (the step's `ref`). The
later line wins for the same key; the journal keeps every one. A confirmation revoked later
leaves its reference recorded until another overrides it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from offboard.customer import load_customer
from offboard.errors import OffboardError
from offboard.project import Project
from offboard.runbook.journal import Entry, Journal, Recorded, utc_now
from offboard.runbook.mirror import into_bucket
from offboard.runbook.modules import secrets_of
from offboard.runbook.workflow import WORKFLOWS
from offboard.validation import said

if TYPE_CHECKING:
    from offboard.runbook.commands import OutputsLoader

RECORD_STEP = "record"  # the journal line's step: references, not a step of a workflow
CASES = WORKFLOWS  # one support case per delivery
TICKETS = ("box-folder", "customizer", "transfer", "delta")
# The confirmation of these steps with `--ref` records the case or ticket it opened.
REF_STEPS = {
    "open-initial-case": ("cases", "initial"),
    "open-delta-case": ("cases", "delta"),
    "file-box-folder-ticket": ("tickets", "box-folder"),
    "file-customizer-ticket": ("tickets", "customizer"),
    "file-transfer-ticket": ("tickets", "transfer"),
    "file-delta-ticket": ("tickets", "delta"),
}
TOKEN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:#/-]{0,39}$")
ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
NOT_RECORDED = "not yet recorded"



class Reference(BaseModel):
    value: str
    by: str
    at: datetime
    via: str  # "record", or the step whose confirmation gave it (`--ref`)


class Cutover(Reference):
    value: date


class Records(BaseModel):
    cases: dict[str, Reference] = {}  # by delivery: initial, delta
    tickets: dict[str, Reference] = {}  # by name: box-folder, customizer, transfer, delta
    cutover: Cutover | None = None

    def for_texts(self, delivery: str) -> dict[str, object]:
        """The template context's `records`: `case` (this delivery's), `cases`, `tickets` and
        `cutover`, each printing its value or "not yet recorded" and false when not recorded."""
        cutover = self.cutover.value if self.cutover else None
        return {
            "case": Shown(value_of(self.cases.get(delivery))),
            "cases": {name: Shown(value_of(self.cases.get(name))) for name in CASES},
            "tickets": {name: Shown(value_of(self.tickets.get(name))) for name in TICKETS},
            "cutover": Shown(f"{cutover:%A} {cutover.day} {cutover:%B %Y}" if cutover else None),
        }


@dataclass(frozen=True)
class Shown:
    """A reference as a text shows it: its value, or plainly that it is not recorded."""

    value: str | None

    def __str__(self) -> str:
        return self.value or NOT_RECORDED

    def __bool__(self) -> bool:
        return self.value is not None


def value_of(reference: Reference | None) -> str | None:
    return reference.value if reference else None


def current(journal: Journal) -> Records:
    """What the journal's records and confirmations' references say now, the later line winning."""
    records = Records()
    for line in journal.lines():
        if isinstance(line, Recorded):
            records.cases.update({key: Reference(**attributed(line, value)) for key, value in line.cases.items()})
            records.tickets.update({key: Reference(**attributed(line, value)) for key, value in line.tickets.items()})
            if line.cutover:
                records.cutover = Cutover(**attributed(line, line.cutover))
        elif line.status == "done" and line.ref and line.step in REF_STEPS:
            group, key = REF_STEPS[line.step]
            getattr(records, group)[key] = Reference(**attributed(line, line.ref))
    return records


def attributed(line: Entry, value: Any) -> dict[str, Any]:
    """A value with who said it, when, and through which line."""
    return {"value": value, "by": line.confirmed_by or line.actor, "at": line.end or line.start,
            "via": RECORD_STEP if isinstance(line, Recorded) else line.step}


def delivery_in_progress(journal: Journal) -> str:
    """The delta once any of its steps is journaled, else the initial delivery."""
    return "delta" if any(entry.workflow == "delta" for entry in journal.entries()) else "initial"


@dataclass(frozen=True)
class Recording:
    line: Recorded | None  # None when nothing was given: only shown
    records: Records
    warning: str | None  # the journal could not be mirrored into the bucket


def record(project: Project, stack: str, *, cases: list[str], tickets: list[str], cutover: str | None, by: str | None,
           backend: str | None, outputs: OutputsLoader | None = None) -> Recording:
    """Journal the given references (`cases` as `[DELIVERY=]NUMBER`, `tickets` as `NAME=NUMBER`,
    `cutover` as YYYY-MM-DD, not in the past); with none, only read what is recorded. A case
    without its delivery is the delivery in progress's. Each value is checked before any is written."""
    from offboard.runbook.commands import KnownOutputs, outputs_of  # here: the commands' texts read the records

    customer = load_customer(project, stack)
    known = KnownOutputs(outputs or outputs_of(project, customer, backend))
    journal = Journal.of_stack(project, stack, mirror=into_bucket(known.get))
    if not (cases or tickets or cutover):
        return Recording(None, current(journal), None)
    by = said(by, "say who records: --by NAME")
    delivery, now = delivery_in_progress(journal), utc_now()
    line = Recorded(step=RECORD_STEP, workflow=delivery, actor="ch-msp", kind="manual", confirmed_by=by, start=now, end=now,
                    cases=pairs(cases, "--case", CASES, default=delivery), tickets=pairs(tickets, "--ticket", TICKETS),
                    cutover=cutover_date(cutover, date.today()) if cutover else None)
    sensitive = secrets_of(customer, known.get())  # the key and the databases' passwords
    sensitive.refuse("\n".join([by, *line.cases.values(), *line.tickets.values()]), f"the record of stack {stack}")
    # No lock: a record changes no step's state, and may be made while a long `run` holds the stack.
    journal.append(line)
    warning = journal.mirror()
    return Recording(line, current(journal), sensitive.redact(warning) if warning else None)


def pairs(given: list[str], option: str, names: tuple[str, ...], default: str | None = None) -> dict[str, str]:
    """`NAME=NUMBER` values (`NUMBER` alone for `default`'s), each name one of `names`."""
    found = {}
    for item in given:
        name, number = item.split("=", 1) if "=" in item else (default, item)
        if name is None:
            raise OffboardError(f"{option} {item}: write NAME=NUMBER, NAME one of {', '.join(names)}")
        if name not in names:
            raise OffboardError(f"{option} {item}: unknown name {name!r}; choose one of {', '.join(names)}")
        found[name] = token(number.strip(), f"{option} {name}")
    return found


def token(value: str, what: str) -> str:
    if not TOKEN.match(value):
        raise OffboardError(f"{what}: {value!r} is not a case or ticket number; give letters, digits and - _ . : # / "
                            "only, at most 40")
    return value


def cutover_date(value: str, today: date) -> date:
    try:
        day = date.fromisoformat(value) if ISO_DATE.match(value) else None
    except ValueError:
        day = None
    if day is None:
        raise OffboardError(f"--cutover {value}: give the agreed cut-over date as YYYY-MM-DD")
    if day < today:
        raise OffboardError(f"--cutover {value} is in the past (today is {today}): give the agreed date, still to come")
    return day
