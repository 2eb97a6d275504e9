"""What a fix-up did to one target, saved as `fixup-<target>.json` in the stack's state: what verify
compares the target with afterwards."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

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


class FixupReport(BaseModel):
    org_id: str  # the target org id
    dry_run: bool
    created: str
    tables: list[TableFixup]
    unmapped_users: dict[str, list[str]]  # cloud user id -> TABLE.COLUMN where it was found

    @property
    def changed_rows(self) -> int:
        return sum(column.rows for table in self.tables for column in table.columns)

    def table(self, qualified: str) -> TableFixup | None:
        return next((table for table in self.tables if table.table == qualified), None)

    def figures(self) -> dict[str, Any]:
        """What the journal keeps of a fix-up."""
        return {"rows_changed": self.changed_rows, "unmapped_users": len(self.unmapped_users), "dry_run": self.dry_run}

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


