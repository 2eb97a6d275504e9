"""The binary-file stages for one customer: its settings and bucket in, figures out.

The org's files are the ones its own database rows point at (`offboard.db.content`), read
from the source content stores; import lands a committed delivery under the target's stores;
verify compares the target with every committed delivery. The runbook's file steps and
`offboard files ...` call these same functions.
"""

from __future__ import annotations

import json
from typing import Any

from offboard.customer import Customer, content_roots, database_urls
from offboard.db.content import org_content
from offboard.db.stages import catalog
from offboard.delivery import pick
from offboard.files.deliveries import committed_manifests
from offboard.files.export import export_files
from offboard.files.importer import import_files
from offboard.files.progress import Progress
from offboard.files.verify import VerifyReport, verify_files
from offboard.infra.outputs import StackOutputs
from offboard.project import Project
from offboard.transfer.session import customer_s3


def export(project: Project, customer: Customer, outputs: StackOutputs, delivery: str, checksum: bool = False,
           progress: Progress | None = None) -> dict[str, Any]:
    """Send the org's added and changed files (all of them for `initial`) and record deletions."""
    source = customer.side("source")
    selection = org_content(catalog(project), database_urls(source, project.root), customer.org_id)
    result = export_files(customer_s3(outputs), outputs.bucket, customer.org_id, content_roots(source, project.root),
                          selection, delivery, checksum=checksum, progress=progress)
    manifest = result.manifest
    return {"delivery": manifest.delivery, "files": len(manifest.files), "deleted": len(manifest.deleted),
            "archives_sent": result.archives_sent, "archives_resumed": result.archives_resumed, "bytes_sent": result.bytes_sent}


def import_(project: Project, customer: Customer, outputs: StackOutputs, delivery: str, target: str,
            progress: Progress | None = None) -> dict[str, Any]:
    """Land committed deliveries, in order, under the target's content stores."""
    s3, roots = customer_s3(outputs), content_roots(customer.side(target), project.root)
    committed = [manifest.delivery for manifest in committed_manifests(s3, outputs.bucket, customer.org_id)]
    names = pick(committed, delivery, "files", outputs.bucket)
    results = [import_files(s3, outputs.bucket, customer.org_id, name, roots, progress=progress) for name in names]
    return {"deliveries": names, "files": sum(r.files for r in results), "bytes": sum(r.bytes for r in results),
            "deleted": sum(r.deleted for r in results)}


def verify(project: Project, customer: Customer, outputs: StackOutputs, target: str, checksum: bool = True,
           progress: Progress | None = None) -> VerifyReport:
    """The target's stores against every committed delivery; the report is kept as proof."""
    manifests = committed_manifests(customer_s3(outputs), outputs.bucket, customer.org_id)
    report = verify_files(content_roots(customer.side(target), project.root), manifests, checksum=checksum, progress=progress)
    (project.stack_state_dir(customer.stack) / f"verify-files-{target}.json").write_text(
        json.dumps(report.to_json(), indent=2), encoding="utf-8")
    return report
