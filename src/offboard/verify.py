"""The proof for one target: its files and its rows against every committed delivery."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from offboard.db import stages as db_stages
from offboard.db.verify import VerifyResult
from offboard.errors import OffboardError
from offboard.files import stages as files_stages
from offboard.files.verify import VerifyReport
from offboard.runtime import Runtime


@dataclass(frozen=True)
class Verification:
    target: str
    files: VerifyReport
    rows: VerifyResult

    @property
    def ok(self) -> bool:
        return self.files.ok and self.rows.ok

    def figures(self) -> dict:
        return {"target": self.target, "files": self.files.expected, "files_ok": self.files.ok,
                "tables": len(self.rows.tables), "rows": sum(check.expected_rows for check in self.rows.tables),
                "rows_ok": self.rows.ok}


def verify_target(runtime: Runtime, *, org_id: str, target_org_id: str, bucket: str, target: str,
                  target_stores: Mapping[str, str], target_databases: Mapping[str, str]) -> Verification:
    files = files_stages.verify(runtime, org_id=org_id, target_org_id=target_org_id, bucket=bucket, target=target,
                                target_stores=target_stores, target_databases=target_databases)
    rows = db_stages.verify(runtime, org_id=org_id, target_org_id=target_org_id, target=target, target_databases=target_databases)
    return Verification(target, files, rows)


def prove(runtime: Runtime, **values: Any) -> dict:
    """The runbook's verify step (`verify_target`'s arguments): figures when the target holds exactly
    the org's files and rows, else an error; a dry run reports the figures either way."""
    verification = verify_target(runtime, **values)
    if runtime.dry_run:
        return {"dry_run": True, **verification.figures()}
    return require_equal(verification)


def require_equal(verification: Verification) -> dict:
    """Figures when the target holds exactly the org's data, else an error."""
    if not verification.ok:
        files, rows = verification.files, verification.rows
        raise OffboardError(f"{verification.target} differs: {len(files.missing)} files missing, {len(files.extra)} extra, "
                            f"{len(files.different)} different; {len(rows.failures)} tables differ")
    return verification.figures()
