"""The database stages for one customer: its settings and bucket in, figures out.

The source side exports into `.offboard/stacks/<stack>/db-export/<delivery>` and sends the
folder to `<delivery>/db/` in the customer's bucket, manifest last. The MSP side fetches a
committed `<delivery>/db/` into `.offboard/stacks/<stack>/db-import/<delivery>` and loads it.
The runbook's database steps and `offboard db ...` call these same functions.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from offboard.customer import Customer, database_urls
from offboard.db.catalog import Catalog, load_catalog
from offboard.db.export import export_org
from offboard.db.fixup import FixupReport, fixup_target, render_rules
from offboard.db.load import import_delivery
from offboard.db.manifest import MANIFEST_FILE
from offboard.delivery import delivery_prefixes, pick
from offboard.db.scan import Progress
from offboard.db.verify import VerifyResult, verify_target
from offboard.errors import OffboardError
from offboard.infra.outputs import StackOutputs
from offboard.project import Project
from offboard.transfer.folders import Moved, download_folder, objects_under, upload_folder
from offboard.transfer.session import customer_s3

CATALOG = "catalog/connections.yaml"
TARGETS = ("staging", "production")


def catalog(project: Project) -> Catalog:
    return load_catalog(project.runbooks_dir / CATALOG)


def export_dir(project: Project, customer: Customer) -> Path:
    return project.stack_state_dir(customer.stack) / "db-export"


def import_dir(project: Project, customer: Customer) -> Path:
    return project.stack_state_dir(customer.stack) / "db-import"


def fixup_report_path(project: Project, customer: Customer, target: str) -> Path:
    return project.stack_state_dir(customer.stack) / f"fixup-{target}.json"


def prefix(delivery: str) -> str:
    return f"{delivery}/db/"


def committed_in_bucket(s3, bucket: str) -> list[str]:
    """The deliveries whose database part is committed in the bucket, in order."""
    return [name for name in delivery_prefixes(s3, bucket) if MANIFEST_FILE in objects_under(s3, bucket, prefix(name))]


def export(project: Project, customer: Customer, outputs: StackOutputs, delivery: str,
           progress: Progress | None = None) -> dict[str, Any]:
    """Export the org's rows (`initial`, or `delta` against what the bucket already holds) and send them."""
    s3, root = customer_s3(outputs), export_dir(project, customer)
    if delivery != "initial":  # a delta compares with the last delivery: have every committed one here
        for name in committed_in_bucket(s3, outputs.bucket):
            download_folder(s3, outputs.bucket, prefix(name), root / name, f"database delivery {name}")
    source = database_urls(customer.side("source"), project.root)
    exported = export_org(catalog(project), source, customer.org_id, root, delivery, progress=progress)
    moved = upload_folder(s3, outputs.bucket, prefix(exported.manifest.delivery), exported.folder)
    tables = exported.manifest.tables
    return {"delivery": exported.manifest.delivery, "tables": len(tables), "rows": sum(t.rows for t in tables),
            "deleted": sum(len(t.deleted) for t in tables), "files_sent": moved.files, "bytes_sent": moved.bytes}


def download(project: Project, customer: Customer, outputs: StackOutputs, delivery: str) -> dict[str, Any]:
    """Fetch committed database deliveries from the bucket to the MSP side."""
    _, moved = fetch(project, customer, outputs, delivery)
    return {"files": sum(m.files for m in moved), "bytes": sum(m.bytes for m in moved)}


def fetch(project: Project, customer: Customer, outputs: StackOutputs, delivery: str) -> tuple[list[str], list[Moved]]:
    """The committed deliveries `delivery` names, in order, each fetched into the import folder."""
    s3 = customer_s3(outputs)
    names = pick(committed_in_bucket(s3, outputs.bucket), delivery, "database", outputs.bucket)
    moved = [download_folder(s3, outputs.bucket, prefix(name), import_dir(project, customer) / name, f"database delivery {name}")
             for name in names]
    return names, moved


def import_(project: Project, customer: Customer, outputs: StackOutputs, delivery: str, target: str,
            progress: Progress | None = None) -> dict[str, Any]:
    """Load deliveries (in order) into the target; its fix-up report is void afterwards."""
    urls = target_urls(project, customer, target)
    names, _ = fetch(project, customer, outputs, delivery)
    figures: dict[str, Any] = {"deliveries": names, "rows": 0, "deleted": 0}
    for name in names:
        result = import_delivery(import_dir(project, customer) / name, urls, org_id=customer.org_id,
                                 target_org_id=customer.target_org(), progress=progress)
        figures["rows"] += sum(table.rows for table in result.tables)
        figures["deleted"] += sum(table.deleted for table in result.tables)
    fixup_report_path(project, customer, target).unlink(missing_ok=True)
    (project.stack_state_dir(customer.stack) / f"db-{target}.last").write_text(names[-1], encoding="utf-8")
    return figures


def fixup(project: Project, customer: Customer, target: str, dry_run: bool = False,
          progress: Progress | None = None) -> FixupReport:
    """Rewrite the external references of the org's rows in the target; the report is saved unless dry."""
    settings = customer.fixup_settings()
    rules = render_rules(project, cloud_hosts=settings.cloud_hosts, msp_host=settings.msp_host, cloud_org_id=customer.org_id,
                         target_org_id=customer.target_org(), user_mapping=project.root / settings.user_mapping)
    report = fixup_target(catalog(project), target_urls(project, customer, target), rules, dry_run=dry_run, progress=progress)
    if not dry_run:
        report.save(fixup_report_path(project, customer, target))
    return report


def verify(project: Project, customer: Customer, target: str, progress: Progress | None = None) -> VerifyResult:
    """The target against the last delivery imported into it, and its fix-up report if one ran since."""
    last = project.stack_state_dir(customer.stack) / f"db-{target}.last"
    if not last.is_file():
        raise OffboardError(f"nothing was imported into {target} for stack {customer.stack}: run `offboard db import` first")
    report_path = fixup_report_path(project, customer, target)
    report = FixupReport.load(report_path) if report_path.is_file() else None
    result = verify_target(import_dir(project, customer) / last.read_text(encoding="utf-8"), target_urls(project, customer, target),
                           org_id=customer.org_id, target_org_id=customer.target_org(), fixup_report=report, progress=progress)
    proof = {**dataclasses.asdict(result), "ok": result.ok}
    (project.stack_state_dir(customer.stack) / f"verify-db-{target}.json").write_text(json.dumps(proof, indent=2), encoding="utf-8")
    return result


def target_urls(project: Project, customer: Customer, target: str) -> dict[str, str]:
    if target not in TARGETS:
        raise OffboardError(f"unknown target {target!r}: choose staging or production")
    return database_urls(customer.side(target), project.root)
