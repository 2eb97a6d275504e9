"""The check's findings and its result: what every other part of offboard.db.check writes into,
and what the command line, the runbook step and `runbook render` read. Imports nothing of the
check's other modules."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

BLOCKS, NOTE = "blocks", "note"
Severity = Literal["blocks", "note"]
SOURCE = "source"


class CatalogNote(UserWarning):
    """A note of the check run by `offboard runbook render`: shown as one line, never fatal."""


@dataclass(frozen=True)
class Finding:
    severity: Severity
    side: str  # source, staging, production, or source/<target> for drift between them
    kind: str  # unknown-table, missing-table, missing-column, type, left-out-column, key, drift, release, content, not-checked
    message: str
    database: str | None = None
    table: str | None = None  # SCHEMA.TABLE
    column: str | None = None

    @property
    def blocks(self) -> bool:
        return self.severity == BLOCKS

    def line(self) -> str:
        where = " ".join(filter(None, [self.database, ".".join(filter(None, [self.table, self.column])) or None]))
        return f"{self.severity} {self.side}: {where + ': ' if where else ''}{self.message}"


@dataclass
class ContentCount:
    """The org's binaries of one store, counted under the source's root of that store."""

    store: str
    tables: list[str]
    root: str
    binaries: int = 0
    found: int = 0
    missing_count: int = 0
    missing: list[str] = field(default_factory=list)  # the first few (offboard.db.check.content), in name order


@dataclass
class CheckResult:
    findings: list[Finding] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)  # the sides whose every database was read
    tables: int = 0  # catalogued tables found and compared, over the sides
    content: list[ContentCount] = field(default_factory=list)
    releases: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # side -> database -> values

    @property
    def blocks(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.blocks]

    @property
    def notes(self) -> list[Finding]:
        return [finding for finding in self.findings if not finding.blocks]

    @property
    def ok(self) -> bool:
        return not self.blocks

    def ordered(self) -> list[Finding]:
        """Blocking findings first, each kind in the order found."""
        return [*self.blocks, *self.notes]

    def summary(self) -> str:
        checked = ", ".join(self.checked) or "nothing"
        binaries = sum(count.binaries for count in self.content)
        missing = sum(count.missing_count for count in self.content)
        files = f"; {binaries - missing} of the org's {binaries} binaries found" if self.content else ""
        return (f"catalog check ({checked} checked, {self.tables} tables{files}): "
                f"{len(self.blocks)} blocking, {len(self.notes)} note{'' if len(self.notes) == 1 else 's'}")

    def figures(self) -> dict[str, Any]:
        """What the runbook journals for the step."""
        return {"checked": self.checked, "tables": self.tables, "blocks": len(self.blocks), "notes": len(self.notes),
                "binaries": sum(count.binaries for count in self.content),
                "binaries_missing": sum(count.missing_count for count in self.content),
                "not_checked": [finding.line() for finding in self.findings if finding.kind == "not-checked"]}

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "summary": self.summary(), "checked": self.checked, "tables": self.tables,
                "blocks": len(self.blocks), "notes": len(self.notes),
                "findings": [{**asdict(finding), "line": finding.line()} for finding in self.ordered()],
                "content": [asdict(count) for count in self.content], "releases": self.releases}


class Side:
    """The findings of one side (or of the drift between two), added to the result as they are found."""

    def __init__(self, name: str, result: CheckResult) -> None:
        self.name, self.result = name, result

    @property
    def is_source(self) -> bool:
        return self.name == SOURCE

    def add(self, severity: Severity, kind: str, message: str, database: str | None = None, table: str | None = None,
            column: str | None = None) -> None:
        self.result.findings.append(Finding(severity, self.name, kind, message, database, table, column))
