"""The whole preflight, and its entry points: `offboard check` (`check_stack`), the runbook step
(`stage`) and `offboard runbook render` (`before_render`). Which finding blocks where is decided
here alone (the package's docstring says why)."""

from __future__ import annotations

import warnings
from typing import Any

from offboard.customer import Customer
from offboard.errors import OffboardError
from offboard.preflight import checks
from offboard.preflight.model import BLOCKS, WARNS, PreflightNote, Report
from offboard.project import Project


def preflight(project: Project, customer: Customer, *, backend: str | None, workflow: str | None,
              at_render: bool = False, catalog: bool = False) -> Report:
    """Check what the stack file names, for `workflow` (None: for both deliveries). At render only
    what is read here without connecting; the backend only when one is given."""
    report = Report(customer.stack)
    settled = WARNS if at_render else BLOCKS  # what can still be put right without rendering again
    unset = checks.unset_variables(report, customer, settled)
    checks.missing_targets(report, customer, settled)
    checks.store_roots(report, project, customer, lambda side: settled)
    mapping = checks.user_mapping(report, project, customer, absent=BLOCKS if workflow == "delta" else WARNS,
                                  bad=WARNS if workflow == "initial" else BLOCKS)
    if at_render:
        return report
    reached = checks.reachable_sides(report, project, customer, unset, BLOCKS)
    if mapping is not None and checks.SOURCE in reached:
        checks.coverage(report, project, customer, reached[checks.SOURCE], mapping)
    if backend is not None:
        # The initial delivery's next steps provision the stack, and say the same if the backend does not answer.
        before_provision = WARNS if workflow == "initial" else BLOCKS
        checks.backend_and_key(report, project, customer, backend, unreachable=before_provision,
                               not_provisioned=BLOCKS if workflow == "delta" else WARNS)
    if catalog:
        checks.catalog_blocks(report, project, customer)
    return report


def check_stack(project: Project, customer: Customer, backend: str) -> Report:
    """`offboard check`: everything, the catalog check's blocking findings included."""
    return preflight(project, customer, backend=backend, workflow=None, catalog=True)


def refusal(report: Report, doing: str) -> OffboardError:
    first = report.blocks[0]
    return OffboardError(f"the preflight blocks {doing}: {first.line()} ({len(report.blocks)} blocking in all); "
                         f"run `offboard check {report.stack}` for all of them")


def stage(runtime, *, workflow: str) -> Report | dict[str, Any]:
    """The first machine step of a delivery: the stack file as rendered (its sha256 was checked)
    against this machine and its backend; the catalog check is the next step. Fails on the first
    blocking finding; a dry run checks the same and says what would stop the step."""
    report = preflight(runtime.project, runtime.customer(), backend=runtime.backend, workflow=workflow)
    if runtime.dry_run:
        return {"dry_run": True, **report.figures(), "would_refuse": str(refusal(report, "the run")) if report.blocks else None}
    if report.blocks:
        raise refusal(report, "the run")
    return report


def before_render(project: Project, customer: Customer, workflow: str) -> Report:
    """What `offboard runbook render` checks: refused on a blocking finding, nothing written; each
    warning is one line, and the preflight step checks it again when it runs."""
    report = preflight(project, customer, backend=None, workflow=workflow, at_render=True)
    if report.blocks:
        raise refusal(report, "rendering (nothing rendered)")
    for finding in report.warnings:  # no severity word: what only warns here may block when the run starts
        warnings.warn(PreflightNote(f"preflight, checked again when the run starts: {finding.where}: {finding.message}"),
                      stacklevel=2)
    return report
