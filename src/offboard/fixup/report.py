"""What a fix-up did to one target, saved as `fixup-<target>.json` in the stack's state: what verify
compares the target with afterwards."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from offboard.db.manifest import write_json_atomically
from offboard.errors import OffboardError
from offboard.validation import describe


class ColumnFixup(BaseModel):
    column: str
    kind: str  # links | users | orgs
    rows: int = 0  # rows whose value changed
    hosts: int = 0
    users: int = 0
    orgs: int = 0

    def record(self, tally: Counter) -> None:
        self.rows += 1
        self.hosts += tally["hosts"]
        self.users += tally["users"]
        self.orgs += tally["orgs"]


class TableFixup(BaseModel):
    table: str
    rows: int  # the org's rows in the target
    checksum: str | None  # of the org's rows after the fix-up; None for a dry run
    columns: list[ColumnFixup]


class Place(BaseModel):
    """Where an unmapped user id stands: a column of a table, in how many of the org's rows."""

    table: str
    column: str
    rows: int


class Unmapped(BaseModel):
    """A cloud user id the mapping lacks, left as it was: a decision for the operator."""

    id: str
    places: list[Place]


class Merge(BaseModel):
    """A person the MSP's directory sync had already made in the target (`person`, the id in the
    new home): the target's row (its key `kept`) stands for them; the org's row (key `removed`)
    is gone, the `repointed` rows of the org that pointed at it point at the target's, the columns
    the target's row lacked were `filled` from the org's, and where both had a value and the
    org's `differed`, the target's stays."""

    table: str
    person: str
    kept: str
    removed: str
    repointed: int
    filled: list[str] = []
    differed: list[str] = []


class RewrittenFile(BaseModel):
    """A binary of the org that holds links (a wiki page), rewritten in the target's store: verify
    expects `sha256` there instead of the delivery's digest, while the delivery's is `delivered`."""

    store: str
    path: str  # inside the store, as the files manifest names it
    size: int
    sha256: str
    delivered: str  # sha256 of the delivered file it was rewritten from: a newer delivery is not replaced by it
    links: int  # host names, org ids and user ids rewritten in it


class FixupReport(BaseModel):
    org_id: str  # the target org id
    dry_run: bool
    created: str
    route: str = "direct"  # direct: the fix-up rewrote user ids; wsadmin: the product's sync commands do
    tables: list[TableFixup]
    unmapped: list[Unmapped] = []  # sorted by id
    guests: list[str] = []  # ids of people whose home org is another org: never mapped into this one
    merged: list[Merge] = []
    files: list[RewrittenFile] = []  # every file of the org the fix-ups rewrote in the target, as it is now
    files_left: dict[str, list[str]] = {}  # why -> `<store>/<path>` of text files left as they were

    @property
    def unmapped_ids(self) -> list[str]:
        return [user.id for user in self.unmapped]

    @property
    def changed_rows(self) -> int:
        return sum(column.rows for table in self.tables for column in table.columns)

    def table(self, qualified: str) -> TableFixup | None:
        return next((table for table in self.tables if table.table == qualified), None)

    def figures(self) -> dict[str, Any]:
        """What the journal keeps of a fix-up."""
        return {"rows_changed": self.changed_rows, "unmapped_users": len(self.unmapped), "guests": len(self.guests),
                "merged": len(self.merged), "files_rewritten": len(self.files), "links_in_files": sum(f.links for f in self.files),
                **{f"files_{reason}": len(names) for reason, names in sorted(self.files_left.items())}, "dry_run": self.dry_run}

    def save(self, path: Path) -> None:
        write_json_atomically(path, self.model_dump(mode="json"))

    @classmethod
    def load(cls, path: Path) -> FixupReport:
        try:
            return cls.model_validate_json(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise OffboardError(f"cannot read the fix-up report {path}: {error.strerror}") from None
        except ValidationError as error:
            raise OffboardError(f"{path}: {describe(error)}") from None


def report_path(state_dir: Path, target: str) -> Path:
    """Where the stack's state keeps the last fix-up report of a target."""
    return state_dir / f"fixup-{target}.json"


def merges_path(state_dir: Path, target: str) -> Path:
    """Every merge of the org's people into a target's, kept across fix-ups and deltas: the org's
    merged rows are gone from the target, and a later import must know why (offboard.db.load)."""
    return state_dir / f"merged-{target}.json"


def read_merges(path: Path) -> list[Merge]:
    try:
        return TypeAdapter(list[Merge]).validate_json(path.read_bytes()) if path.is_file() else []
    except ValidationError as error:
        raise OffboardError(f"{path}: {describe(error)}") from None


def add_merges(path: Path, merges: list[Merge]) -> list[Merge]:
    """The merges recorded so far with `merges` added (one per table and removed row), saved."""
    every = {(merge.table, merge.removed): merge for merge in [*read_merges(path), *merges]}
    write_json_atomically(path, [merge.model_dump(mode="json") for merge in every.values()])
    return list(every.values())


def merged_keys(merges: list[Merge]) -> dict[str, dict[str, str]]:
    """Person table -> the org's key merged away -> the target's key (as the report shows keys)."""
    keys: dict[str, dict[str, str]] = {}
    for merge in merges:
        keys.setdefault(merge.table, {})[merge.removed] = merge.kept
    return keys


def rewritten_path(state_dir: Path, target: str) -> Path:
    """The org's files the fix-ups rewrote in a target (offboard.fixup.files), kept across imports:
    a later fix-up carries them on, a later files import does not undo them, files verify expects them."""
    return state_dir / f"rewritten-{target}.json"


def read_rewritten(state_dir: Path, target: str) -> dict[str, RewrittenFile]:
    """What the fix-ups rewrote in a target, by `<store>/<path>`; none before its first fix-up."""
    path = rewritten_path(state_dir, target)
    try:
        files = TypeAdapter(list[RewrittenFile]).validate_json(path.read_bytes()) if path.is_file() else []
    except ValidationError as error:
        raise OffboardError(f"{path}: {describe(error)}") from None
    return {f"{file.store}/{file.path}": file for file in files}


def save_rewritten(state_dir: Path, target: str, files: list[RewrittenFile]) -> None:
    write_json_atomically(rewritten_path(state_dir, target), [file.model_dump(mode="json") for file in files])
