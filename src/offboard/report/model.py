"""What the report says, as data: the facts offboard.report.facts gathers, both report files
show, and `offboard report --json` prints."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from offboard.runbook.records import Records


class Attempt(BaseModel):
    """A run of a step that did not end well: failed (with its error's first line) or interrupted."""

    step: str
    workflow: str
    status: str
    at: datetime
    error: str


class Confirmation(BaseModel):
    """A person's step confirmed, or a confirmation revoked; `reason` says why out of order, or why revoked."""

    step: str
    title: str
    workflow: str
    actor: str
    event: Literal["confirmed", "revoked"]
    by: str | None
    at: datetime | None
    note: str | None
    ref: str | None
    reason: str | None


class Span(BaseModel):
    """A step on the timeline: from its first line (waiting, or its first run) to its last `done`.
    A machine step worked from `start` to `end`; before `start` it waited (for IBM, or for a retry)."""

    step: str
    title: str
    workflow: str
    actor: str
    kind: str
    action: str | None
    status: str  # its last line's
    first: datetime
    start: datetime | None
    end: datetime | None  # None: not done
    seconds: float | None  # of the machine work that finished it
    confirmed_by: str | None
    figures: dict[str, Any]
    module_sha256: str | None
    command: str | None  # a stage command run by hand
    attempts: list[Attempt]
    revoked: list[datetime]

    @property
    def automated(self) -> bool:
        return self.kind == "automated"


class Moved(BaseModel):
    """What a delivery put into the bucket: files and database rows, and their bytes."""

    delivery: str
    files: int
    rows: int
    bytes: int


class UnmappedUser(BaseModel):
    id: str
    places: list[str]  # table.column: rows
    accepted_by: str | None
    accepted_at: datetime | None
    reason: str | None


class People(BaseModel):
    """What the last fix-up of a target did to people."""

    target: str
    merged: int
    guests: int
    unmapped: list[UnmappedUser]

    @property
    def open(self) -> list[str]:
        return [user.id for user in self.unmapped if not user.accepted_by]

    @property
    def accepted(self) -> list[str]:
        return [user.id for user in self.unmapped if user.accepted_by]


class TeardownProof(BaseModel):
    """What teardown.json records. Teardown writes it only after the old key, tried once more
    against the removed bucket, was refused: the record is the proof of that refusal."""

    finished: datetime
    bucket: str
    objects_deleted: int
    archive: str  # its file name
    sha256: str
    key_refused_at: datetime
    forced: str | None  # the override's note, when teardown ran before its gate opened


class ReportFacts(BaseModel):
    customer: str
    org_id: str
    target_org_id: str | None
    stack: str
    first: datetime | None  # the journal's first line
    last: datetime | None  # and its last
    records: Records  # case and ticket numbers, the agreed cut-over date
    outcome: Literal["complete", "in progress", "failed", "not started"]
    outcome_step: str | None
    outcome_text: str
    moved: list[Moved]
    open_points: list[str]
    steps: list[Span]
    confirmations: list[Confirmation]
    attempts: list[Attempt]
    verifications: dict[str, str]
    people: list[People]
    teardown: TeardownProof | None

    def workflow_steps(self, workflow: str) -> list[Span]:
        return [span for span in self.steps if span.workflow == workflow]
