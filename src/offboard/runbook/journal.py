"""The journal of one stack: append-only JSON lines, the audit trail and the resume point.

A step's state is its last line, except that a `revoked` line (a person's confirmation undone,
and with it every later step of the workflow that was done) makes the step pending again, and
except the kinds of lines that are no step's state: the `rendered` lines, each accepting a new
version of the step's rendered module (its sha256), which the modules refuse to run any other;
the `accepted` lines (`Acceptance`), each an operator's acceptance of unmapped user ids of a target
(offboard.fixup.acceptance), which verify counts as decided; and the `recorded` lines. A step
whose last line is `started` is running while a runbook command holds the stack's lock, and was
interrupted (a crash, a kill -9) when none does. Lines are only ever appended, each with one
write and an fsync. A line that is not JSON at all was torn by a crash (power loss during the
write): it is skipped when read, the step keeps its previous state and runs again, and the next
line starts after it, so nothing already written is ever rewritten.
"""

from __future__ import annotations

import json
import os
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable, ContextManager, Literal

from pydantic import BaseModel, ValidationError

from offboard.errors import OffboardError
from offboard.project import Project, held, is_held

JOURNAL_FILE = "journal.jsonl"
Status = Literal["waiting", "started", "done", "failed", "interrupted", "revoked", "rendered", "accepted", "recorded"]
RENDERED = "rendered"  # a line that accepts a step's rendered module; it is not the step's state
ACCEPTED = "accepted"  # a line that accepts unmapped user ids (an Acceptance); nor is it
RECORDED = "recorded"  # a fact of the stack's own (a case number, a date); nor is it
REVOKED = "revoked"  # a confirmation undone: the step is pending again
PENDING = "pending"  # a step without a line, or revoked: not journaled, only shown
NO_STEP_STATE = (RENDERED, ACCEPTED, RECORDED)
Mirror = Callable[[Path], None]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def seconds_between(start: datetime, end: datetime) -> float:
    """A line's `duration`."""
    return round((end - start).total_seconds(), 3)


class Journaled(BaseModel):
    """What the journal records of a step's last outcome (shown by plan and status too)."""

    confirmed_by: str | None = None
    note: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    duration: float | None = None
    figures: dict[str, Any] = {}
    error: str | None = None
    module: str | None = None  # the rendered module that ran the step (or was accepted), and its sha256
    sha256: str | None = None
    ref: str | None = None  # the case or ticket number a confirmation refers to
    reason: str | None = None  # why the process was bent here: out of order, outside the runbook, revoked
    command: str | None = None  # a stage command run by hand (`offboard db import ...`), not by `runbook run`


class Entry(Journaled):
    step: str
    workflow: str
    actor: str
    kind: str
    action: str | None = None
    status: Status


class Acceptance(Entry):
    """An operator's decision to leave ids the fix-up of `target` could not map as they are: who
    (`confirmed_by`), when (`end`), why, and which. Acceptances accumulate; none undoes another."""

    status: Literal["accepted"] = ACCEPTED
    target: str
    ids: list[str]
    reason: str


class Recorded(Entry):
    """The stack's references as an operator recorded them (offboard.runbook.records): support case
    numbers by delivery, ticket numbers by name, the agreed cut-over date; who (`confirmed_by`) and when (`end`)."""

    status: Literal["recorded"] = RECORDED
    cases: dict[str, str] = {}
    tickets: dict[str, str] = {}
    cutover: date | None = None


LINE_MODELS: dict[str, type[Entry]] = {ACCEPTED: Acceptance, RECORDED: Recorded}  # the lines that say more than an Entry, by status


class Journal:
    def __init__(self, path: Path, mirror: Mirror | None = None) -> None:
        self.path = path
        self._mirror = mirror

    @classmethod
    def of_stack(cls, project: Project, stack: str, mirror: Mirror | None = None) -> Journal:
        return cls(project.stack_state_dir(stack) / JOURNAL_FILE, mirror)

    def entries(self) -> list[Entry]:
        """What happened to the steps, in order."""
        return [entry for entry in self.lines() if entry.status not in NO_STEP_STATE]

    def acceptances(self) -> list[Acceptance]:
        """Every acceptance of unmapped ids, in order."""
        return [entry for entry in self.lines() if isinstance(entry, Acceptance)]

    def renderings(self) -> dict[str, Entry]:
        """Each step's last accepted module."""
        return {entry.step: entry for entry in self.lines() if entry.status == RENDERED}

    def lines(self) -> list[Entry]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        entries = []
        for number, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            try:
                document = json.loads(line)
            except json.JSONDecodeError:
                continue  # torn by a crash
            model = LINE_MODELS.get(document.get("status"), Entry) if isinstance(document, dict) else Entry
            try:
                entries.append(model.model_validate(document))
            except ValidationError:
                raise OffboardError(f"{self.path}: line {number} is not a journal entry; repair it by hand") from None
        return entries

    def begun(self) -> set[str]:
        """The workflows the runbook has written a line of: a stage command run by hand begins none."""
        return {entry.workflow for entry in self.entries() if entry.command is None}

    def latest(self) -> dict[str, Entry]:
        """Each step's last entry; a step whose last entry revokes it is pending, so not there."""
        last = {entry.step: entry for entry in self.entries()}
        return {step: entry for step, entry in last.items() if entry.status != REVOKED}

    def append(self, entry: Entry) -> Entry:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = entry.model_dump_json() + "\n"
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = "\n" + line  # start after a torn line instead of gluing onto it
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        return entry

    def lock(self) -> ContextManager[None]:
        """One command at a time changes a stack's runbook."""
        return held(self.path.with_suffix(".lock"), "another runbook command is working on this stack")

    def locked(self) -> bool:
        """Whether a runbook command works on the stack now (its `started` steps are running)."""
        return is_held(self.path.with_suffix(".lock"))

    def mirror(self) -> str | None:
        """Copy the journal where the mirror puts it; best effort: a failure is returned, not raised."""
        if self._mirror is None or not self.path.exists():
            return None
        try:
            self._mirror(self.path)
        except Exception as error:  # noqa: BLE001 - any failure of the copy leaves the local journal intact
            return f"journal not mirrored: {error}"
        return None


def step_state(entry: Entry | None, locked: bool) -> str:
    """A step's state as status and fleet show it: `started` is `running` while a runbook command
    holds the stack's lock (`locked`), and `interrupted` when none does (it crashed, or was killed)."""
    if entry is None:
        return PENDING
    if entry.status == "started":
        return "running" if locked else "interrupted"
    return entry.status
