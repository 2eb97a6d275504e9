"""The proof for one target: its files and its rows against every committed delivery, and no
user id of its last fix-up left unmapped without an acceptance (offboard.fixup.unmapped)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from offboard.db import stages as db_stages
from offboard.db.verify import VerifyResult
from offboard.errors import OffboardError
from offboard.files import stages as files_stages
from offboard.files.verify import VerifyReport
from offboard.fixup.unmapped import open_refusal
from offboard.runtime import Runtime


@dataclass(frozen=True)
class Verification:
    stack: str
    target: str
    files: VerifyReport
    rows: VerifyResult

    @property
    def ok(self) -> bool:
        return self.files.ok and self.rows.ok

    def figures(self) -> dict:
        return {"target": self.target, "files": self.files.expected, "files_ok": self.files.ok,
                "tables": len(self.rows.tables), "rows": sum(check.expected_rows for check in self.rows.tables),
                "rows_ok": not self.rows.failures, "unmapped_open": len(self.rows.unmapped_open),
                "unmapped_accepted": len(self.rows.unmapped_accepted), "merged": self.rows.merged, "guests": self.rows.guests}


def verify_target(runtime: Runtime, *, org_id: str, target_org_id: str, bucket: str, target: str,
                  target_stores: Mapping[str, str], target_databases: Mapping[str, str]) -> Verification:
    files = files_stages.verify(runtime, org_id=org_id, target_org_id=target_org_id, bucket=bucket, target=target,
                                target_stores=target_stores, target_databases=target_databases)
    rows = db_stages.verify(runtime, org_id=org_id, target_org_id=target_org_id, target=target, target_databases=target_databases)
    return Verification(runtime.stack, target, files, rows)


def prove(runtime: Runtime, **values: Any) -> dict:
    """The runbook's verify step (`verify_target`'s arguments): figures when the target holds exactly
    the org's files and rows, else an error; a dry run reports the figures either way."""
    verification = verify_target(runtime, **values)
    if runtime.dry_run:
        return {"dry_run": True, **verification.figures()}
    return require_equal(verification)


def require_equal(verification: Verification) -> dict:
    """Figures when the target holds exactly the org's data and no unmapped id is open, else an error."""
    files, rows = verification.files, verification.rows
    problems = []
    if not files.ok or rows.failures:
        problems.append(f"{verification.target} differs: {files.missing_count} files missing, {files.extra_count} extra, "
                        f"{files.different_count} different; {len(rows.failures)} tables differ")
    if rows.unmapped_open:
        problems.append(open_refusal(verification.stack, verification.target, rows.unmapped_open))
    if problems:
        raise OffboardError("; ".join(problems))
    return verification.figures()
