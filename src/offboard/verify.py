"""The proof for one target: its files and its rows against every committed delivery."""

from __future__ import annotations

from dataclasses import dataclass

from offboard.customer import Customer
from offboard.db import stages as db_stages
from offboard.db.verify import VerifyResult
from offboard.errors import OffboardError
from offboard.files import stages as files_stages
from offboard.files.verify import VerifyReport
from offboard.infra.outputs import StackOutputs
from offboard.project import Project


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


def verify_target(project: Project, customer: Customer, outputs: StackOutputs, target: str) -> Verification:
    return Verification(target, files_stages.verify(project, customer, outputs, target), db_stages.verify(project, customer, target))


def require_equal(verification: Verification) -> dict:
    """The runbook's verify step: figures when the target holds exactly the org's data, else an error."""
    if not verification.ok:
        files, rows = verification.files, verification.rows
        raise OffboardError(f"{verification.target} differs: {len(files.missing)} files missing, {len(files.extra)} extra, "
                            f"{len(files.different)} different; {len(rows.failures)} tables differ")
    return verification.figures()
