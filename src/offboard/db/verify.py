"""Verify: the target holds exactly the org's rows of a delivery.

Per table of the catalog, the org's row count and checksum in the target against the delivery's
manifest (the source's state when it was exported); the tables and their shapes are the
catalog's, and a delivery that differs from it is refused (`manifest.catalogued`). After a
fix-up the rows differ from the source by design: the counts still come from the manifest, the
checksums from the fix-up's report. An `ensure` table passes when the target holds the org's
row, its own or the delivery's (offboard.db.load keeps the target's).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from offboard.db.catalog import Catalog
from offboard.db.persons import OrgRows
from offboard.db.connect import database_errors, opened_engines, table_of
from offboard.fixup.report import FixupReport, merged_keys
from offboard.db.manifest import MANIFEST_FILE, catalogued, read_manifest
from offboard.db.scan import Progress, table_state
from offboard.db.statements import tenant_literal
from offboard.errors import OffboardError


@dataclass(frozen=True)
class TableCheck:
    table: str
    expected_rows: int
    expected_checksum: str
    rows: int | None  # None: the target lacks the table
    checksum: str | None
    ensured: bool = False  # the org's own row: present is enough

    @property
    def ok(self) -> bool:
        if self.ensured:
            return bool(self.rows)
        return (self.rows, self.checksum) == (self.expected_rows, self.expected_checksum)


@dataclass(frozen=True)
class VerifyResult:
    """The tables, and the people of the fix-up (offboard.fixup.unmapped): equal rows are not
    enough while an id the fix-up could not map is open, neither mapped nor accepted."""

    delivery: str
    target_org_id: str
    against: str  # "manifest" or "fix-up report"
    tables: list[TableCheck]
    unmapped_open: list[str] = field(default_factory=list)
    unmapped_accepted: list[str] = field(default_factory=list)
    merged: int = 0
    guests: int = 0

    @property
    def ok(self) -> bool:
        return not self.failures and not self.unmapped_open

    @property
    def failures(self) -> list[TableCheck]:
        return [check for check in self.tables if not check.ok]


def verify_target(
    catalog: Catalog,
    delivery_dir: Path,
    targets: Mapping[str, str],
    *,
    org_id: str,
    target_org_id: str,
    fixup_report: FixupReport | None = None,
    progress: Progress | None = None,
) -> VerifyResult:
    """Compare the target with the latest delivery imported into it (and its fix-up, if given)."""
    tenant_literal(target_org_id)
    manifest = read_manifest(delivery_dir)
    if manifest.org_id != org_id:
        raise OffboardError(f"{delivery_dir} is a delivery of org {manifest.org_id}, not of {org_id}")
    if fixup_report is not None and (fixup_report.dry_run or fixup_report.org_id != target_org_id):
        what = "a dry run" if fixup_report.dry_run else f"for org {fixup_report.org_id}"
        raise OffboardError(f"the fix-up report is {what}; verify needs the report of the fix-up of org {target_org_id}")
    tables = catalogued(manifest, catalog, str(delivery_dir / MANIFEST_FILE))
    org = OrgRows.of(catalog, delivery_dir, manifest, target_org_id, merged_keys(fixup_report.merged) if fixup_report else None)
    with opened_engines(targets, dict.fromkeys(spec.database for spec, _ in tables), "target") as engines:
        checks = []
        for spec, entry in tables:
            fixed = fixup_report.table(spec.qualified) if fixup_report else None
            expected = fixed.checksum if fixed else entry.checksum
            expected_rows = org.expected(spec, entry)  # less the org's people merged into the target's
            engine = engines[spec.database]
            with database_errors(engine, f"verifying {spec.qualified}"), engine.connect() as connection:
                target = table_of(spec, engine)
                if not sa.inspect(connection).has_table(target.name, schema=target.schema):
                    checks.append(TableCheck(spec.qualified, expected_rows, expected, None, None))
                    continue
                state = table_state(connection, spec, target_org_id, progress, keys=org.delivered.get(spec.qualified))
            checks.append(TableCheck(spec.qualified, expected_rows, expected, state.rows, state.checksum, spec.ensure))
        return VerifyResult(manifest.delivery, target_org_id, "fix-up report" if fixup_report else "manifest", checks)
