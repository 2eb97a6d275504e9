"""The journal of one stack: append-only JSON lines, the audit trail and the resume point.

A step's state is its last line, except two kinds of lines that are no step's state: the
`rendered` lines, each accepting a new version of the step's rendered module (its sha256), which
the modules refuse to run any other; and the `accepted` lines (`Acceptance`), each an operator's
acceptance of unmapped user ids of a target (offboard.fixup.acceptance), which verify counts as
decided. Lines are only ever appended, each with one write and an fsync. A line that is not JSON
at all was torn by a crash (power loss during the write): it is skipped when read, the step
keeps its previous state and runs again, and the next line starts after it, so nothing already
written is ever rewritten.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, ContextManager, Literal

from pydantic import BaseModel, ValidationError

from offboard.errors import OffboardError
from offboard.project import Project, held

JOURNAL_FILE = "journal.jsonl"
Status = Literal["waiting", "started", "done", "failed", "interrupted", "revoked", "rendered", "accepted", "recorded"]
RENDERED = "rendered"  # a line that accepts a step's rendered module; it is not the step's state
ACCEPTED = "accepted"  # a line that accepts unmapped user ids (an Acceptance); nor is it
Mirror = Callable[[Path], None]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


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


class Journal:
    def __init__(self, path: Path, mirror: Mirror | None = None) -> None:
        self.path = path
        self._mirror = mirror

    @classmethod
    def of_stack(cls, project: Project, stack: str, mirror: Mirror | None = None) -> Journal:
        return cls(project.stack_state_dir(stack) / JOURNAL_FILE, mirror)

    def entries(self) -> list[Entry]:
        """What happened to the steps, in order."""
        return [entry for entry in self.lines() if entry.status not in (RENDERED, ACCEPTED)]

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
            model = Acceptance if isinstance(document, dict) and document.get("status") == ACCEPTED else Entry
            try:
                entries.append(model.model_validate(document))
            except ValidationError:
                raise OffboardError(f"{self.path}: line {number} is not a journal entry; repair it by hand") from None
        return entries

    def latest(self) -> dict[str, Entry]:
        """Each step's last entry."""
        return {entry.step: entry for entry in self.entries()}

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

    def mirror(self) -> str | None:
        """Copy the journal where the mirror puts it; best effort: a failure is returned, not raised."""
        if self._mirror is None or not self.path.exists():
            return None
        try:
            self._mirror(self.path)
        except Exception as error:  # noqa: BLE001 - any failure of the copy leaves the local journal intact
            return f"journal not mirrored: {error}"
        return None
