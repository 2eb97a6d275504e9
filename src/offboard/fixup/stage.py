"""The fix-up stage of one customer, called with its values spelled out: the rendered runbook
module and `offboard db fixup` call it. With `runtime.dry_run` it says what it would change,
reading only."""

from __future__ import annotations

from collections.abc import Mapping

from offboard.db import stages as db_stages
from offboard.db.scan import Progress
from offboard.fixup.report import FixupReport, report_path
from offboard.fixup.rows import fixup_target
from offboard.fixup.rules import render_rules
from offboard.runtime import Runtime, one_at_a_time


@one_at_a_time
def fixup(runtime: Runtime, *, org_id: str, target_org_id: str, target: str, target_databases: Mapping[str, str],
          cloud_hosts: list[str], msp_host: str, user_mapping: str, progress: Progress | None = None) -> FixupReport:
    """Rewrite the external references of the org's rows in the target; the report is saved unless dry."""
    project = runtime.project
    rules = render_rules(project, cloud_hosts=cloud_hosts, msp_host=msp_host, cloud_org_id=org_id,
                         target_org_id=target_org_id, user_mapping=project.root / user_mapping)
    report = fixup_target(db_stages.catalog(project), db_stages.target_urls(runtime, target, target_databases), rules,
                          dry_run=runtime.dry_run, progress=progress)
    if not runtime.dry_run:
        report.save(report_path(runtime.state_dir, target))
    return report
