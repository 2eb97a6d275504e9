"""The preflight's findings and its report: what the checks write into, and what the command line,
the runbook step and `runbook render` read. Imports nothing of the preflight's other modules."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from offboard.masking import scrub

BLOCKS, WARNS = "blocks", "warns"
Severity = Literal["blocks", "warns"]


class PreflightNote(UserWarning):
    """A finding of the preflight `offboard runbook render` runs that does not stop it: one line."""


@dataclass(frozen=True)
class Finding:
    severity: Severity
    check: str  # variable, side, database, store, mapping, coverage, backend, key, catalog
    where: str  # the stack file's setting, side, database or store it is about
    message: str  # what is wrong and what to do, never a secret

    @property
    def blocks(self) -> bool:
        return self.severity == BLOCKS

    def line(self) -> str:
        return f"{self.severity} {self.where}: {self.message}"


@dataclass
class Report:
    stack: str
    checks: int = 0  # how many things were looked at: variables, databases, stores, the mapping, ...
    findings: list[Finding] = field(default_factory=list)

    def passed(self, count: int = 1) -> None:
        self.checks += count

    def add(self, severity: Severity, check: str, where: str, message: str) -> None:
        self.findings.append(Finding(severity, check, where, scrub(message)))  # a driver's text may quote a URL

    @property
    def blocks(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.blocks]

    @property
    def warnings(self) -> list[Finding]:
        return [finding for finding in self.findings if not finding.blocks]

    def ordered(self) -> list[Finding]:
        return [*self.blocks, *self.warnings]

    def summary(self) -> str:
        warned = len(self.warnings)
        return (f"preflight of stack {self.stack}: {self.checks} checks, {len(self.blocks)} blocking, "
                f"{warned} warning{'' if warned == 1 else 's'}")

    def figures(self) -> dict[str, Any]:
        """What the runbook journals for the step."""
        return {"checks": self.checks, "blocks": len(self.blocks), "warnings": [finding.line() for finding in self.warnings]}

    def to_json(self) -> list[dict[str, Any]]:
        return [{**asdict(finding), "line": finding.line()} for finding in self.ordered()]
