"""The binary-file stages of one customer, called with its values spelled out.

The org's files are the ones its own database rows point at (`offboard.db.content`), read
from the source content stores; import lands committed deliveries under the target's stores;
verify compares the target with every committed delivery, a file the fix-up rewrote with what the
fix-up made of it (its report), which an import run again leaves. The rendered runbook modules and
`offboard files ...` call these same functions. With `runtime.dry_run` each says what it would
do, from the source and the bucket, and changes nothing.
"""

from __future__ import annotations

import itertools
import json
from typing import Any, Mapping

from offboard.customer import content_roots, database_urls
from offboard.db.content import content_tenants, org_content
from offboard.db.stages import catalog, org_rows, unknown_org
from offboard.delivery import INITIAL, pick
from offboard.files.deliveries import committed_deliveries, committed_manifests, required_manifest
from offboard.files.export import export_files, plan_export
from offboard.files.importer import check_owned, import_files
from offboard.files.index import FileIndex
from offboard.files.owners import Ownership, TargetOrg
from offboard.files.progress import Progress
from offboard.files.selection import StoreFolders, StoreRoots
from offboard.files.verify import VerifyReport, verify_files
from offboard.fixup.report import read_rewritten
from offboard.runtime import Runtime, one_at_a_time


@one_at_a_time
def export(runtime: Runtime, *, org_id: str, bucket: str, delivery: str, source_databases: Mapping[str, str],
           source_stores: Mapping[str, str], checksum: bool = False, progress: Progress | None = None) -> dict[str, Any]:
    """Send the org's added and changed files (all of them for `initial`) and record deletions."""
    root, tables = runtime.project.root, catalog(runtime.project)
    sources, roots = database_urls(source_databases, root), content_roots(source_stores, root)
    selection = org_content(tables, sources, org_id, roots)
    first = next(selection, None)
    if first is None and delivery == INITIAL and not org_rows(tables, sources, org_id):
        raise unknown_org(org_id)  # a mistyped org id selects nothing: no empty delivery is sent
    selection = itertools.chain([first] if first else [], selection)
    s3 = runtime.s3(bucket)
    if runtime.dry_run:
        plan = plan_export(s3, bucket, org_id, roots, selection, delivery, checksum)
        return {"dry_run": True, "delivery": plan.delivery, "already_committed": bool(plan.committed),
                "files_to_send": plan.files_to_send, "bytes_to_send": plan.bytes_to_send, "deleted": plan.deleted,
                "missing": plan.missing}
    result = export_files(s3, bucket, org_id, roots, selection, delivery, checksum=checksum,
                          progress=progress or runtime.progress.files())
    return {"delivery": result.delivery, "files": result.files, "deleted": result.deleted, "archives_sent": result.archives_sent,
            "archives_resumed": result.archives_resumed, "bytes_sent": result.bytes_sent}


@one_at_a_time
def import_(runtime: Runtime, *, org_id: str, target_org_id: str, bucket: str, delivery: str, target: str,
            target_stores: Mapping[str, str], target_databases: Mapping[str, str], progress: Progress | None = None) -> dict[str, Any]:
    """Land committed deliveries, in order, under the target's content stores, writing and deleting
    only what is absent there or the org's (`target_org_id`; its rows in `target_databases`); a file
    the fix-ups of `target` (staging or production) rewrote from what the delivery brings is left as
    they made it (offboard.fixup.report.read_rewritten)."""
    project = runtime.project
    s3, roots = runtime.s3(bucket), content_roots(target_stores, project.root)
    names = pick(committed_deliveries(s3, bucket), delivery, "files", bucket)
    urls = database_urls(target_databases, project.root)
    org = TargetOrg(target_org_id, lambda files: content_tenants(catalog(project), urls, files))
    if runtime.dry_run:
        return {"dry_run": True, "deliveries": names, **dry_import(s3, bucket, org_id, names, roots, org)}
    rewritten, progress = read_rewritten(runtime.state_dir, target), progress or runtime.progress.files()
    results = [import_files(s3, bucket, org_id, name, roots, org, rewritten=rewritten, progress=progress) for name in names]
    return {"deliveries": names, "files": sum(r.files for r in results), "bytes": sum(r.bytes for r in results),
            "deleted": sum(r.deleted for r in results), "kept_as_rewritten": sum(r.kept for r in results)}


def dry_import(s3, bucket: str, org_id: str, names: list[str], roots: StoreRoots, org: TargetOrg) -> dict[str, Any]:
    """What importing these deliveries would bring, each refused here as the import would refuse it."""
    folders, counts = StoreFolders(roots), []
    for name in names:
        with FileIndex() as index:  # one delivery at a time: the disk holds one manifest, not all
            manifest = required_manifest(s3, bucket, name, org_id, index)
            check_owned(manifest, folders, Ownership(folders.roots, org))
            counts.append(manifest.counts)
    return {"files": sum(c.files for c in counts), "bytes": sum(c.bytes for c in counts), "deleted": sum(c.deleted for c in counts),
            "into": sorted(str(root) for root in roots.values())}


def verify(runtime: Runtime, *, org_id: str, target_org_id: str, bucket: str, target: str, target_stores: Mapping[str, str],
           target_databases: Mapping[str, str], checksum: bool = True, progress: Progress | None = None) -> VerifyReport:
    """The target's stores against every committed delivery, extra files counted among those the
    org's rows in the target point at (the stores are shared), a file the fix-up rewrote against its
    report; the report is kept as proof unless dry."""
    root, s3 = runtime.project.root, runtime.s3(bucket)
    roots = content_roots(target_stores, root)
    rewritten = read_rewritten(runtime.state_dir, target)
    with FileIndex() as index:
        manifests = committed_manifests(s3, bucket, org_id, index)
        owned = org_content(catalog(runtime.project), database_urls(target_databases, root), target_org_id, roots)
        report = verify_files(roots, manifests, owned=owned, rewritten=rewritten, checksum=checksum,
                              progress=progress or runtime.progress.files())
    if not runtime.dry_run:
        (runtime.state_dir / f"verify-files-{target}.json").write_text(json.dumps(report.to_json(), indent=2), encoding="utf-8")
    return report
