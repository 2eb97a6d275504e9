"""The fix-up stage of one customer, called with its values spelled out: the rendered runbook
module and `offboard db fixup` call it. With `runtime.dry_run` it says what it would change,
reading only."""

from __future__ import annotations

from collections.abc import Mapping

from offboard.db import stages as db_stages
from offboard.db.content import org_content
from offboard.db.delivered import delivered_keys
from offboard.db.scan import Progress
from offboard.customer import content_roots
from offboard.fixup.files import linked_files
from offboard.fixup.report import FixupReport, add_merges, merges_path, read_merges, read_rewritten, report_path, save_rewritten
from offboard.fixup.rewrite import DIRECT
from offboard.fixup.rows import fixup_target
from offboard.fixup.rules import render_rules
from offboard.runtime import Runtime, one_at_a_time


@one_at_a_time
def fixup(runtime: Runtime, *, org_id: str, target_org_id: str, target: str, target_databases: Mapping[str, str],
          target_stores: Mapping[str, str], cloud_hosts: list[str], msp_host: str, user_mapping: str, route: str = DIRECT,
          progress: Progress | None = None) -> FixupReport:
    """Rewrite the external references of the org's rows and linked files in the target; the report
    is saved unless dry. Its `merged` lists every merge of the org's people into the target's so far."""
    project, state = runtime.project, runtime.state_dir
    catalog = db_stages.catalog(project)
    rules = render_rules(project, cloud_hosts=cloud_hosts, msp_host=msp_host, cloud_org_id=org_id,
                         target_org_id=target_org_id, user_mapping=project.root / user_mapping)
    urls, roots = db_stages.target_urls(runtime, target, target_databases), content_roots(target_stores, project.root)
    pages = set(org_content(catalog, urls, target_org_id, roots, links_only=True))
    linked = linked_files(roots, target_org_id, pages)  # refuses a bad name before anything is written
    merges = merges_path(state, target)
    report = fixup_target(catalog, urls, rules,
                          delivered=delivered_keys(catalog, db_stages.import_dir(runtime), org_id), route=route,
                          record_merges=lambda done: add_merges(merges, done), linked=linked,
                          earlier=read_rewritten(state, target), dry_run=runtime.dry_run,
                          progress=progress or runtime.progress.rows())
    if not runtime.dry_run:
        save_rewritten(state, target, report.files)
        report = report.model_copy(update={"merged": read_merges(merges)})
        report.save(report_path(state, target))
    return report
