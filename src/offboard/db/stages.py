"""The database stages of one customer, called with its values spelled out.

The source side exports into `.offboard/stacks/<stack>/db-export/<delivery>` and sends the
folder to `<delivery>/db/` in the customer's bucket, manifest last. The MSP side fetches a
committed `<delivery>/db/` into `.offboard/stacks/<stack>/db-import/<delivery>` and loads it.
The rendered runbook modules and `offboard db ...` call these same functions. With
`runtime.dry_run` each says what it would do, reading only, and changes nothing.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any, Mapping

from pydantic import ValidationError

from offboard.customer import database_urls
from offboard.db.catalog import Catalog, load_catalog
from offboard.db.connect import database_errors, opened_engines
from offboard.db.export import export_org
from offboard.fixup.report import FixupReport, merged_keys, merges_path, read_merges, report_path
from offboard.db.load import import_delivery
from offboard.db.manifest import MANIFEST_FILE, Manifest, catalogued
from offboard.db.scan import Progress, count_rows
from offboard.db.verify import VerifyResult, verify_target
from offboard.fixup.unmapped import decide
from offboard.delivery import INITIAL, delivery_name, delivery_number, delivery_prefixes, pick
from offboard.errors import OffboardError
from offboard.validation import describe
from offboard.project import Project
from offboard.runbook.journal import Journal
from offboard.runtime import Runtime, one_at_a_time
from offboard.transfer.folders import (
    Moved,
    download_folder,
    objects_under,
    upload_folder,
)

CATALOG = "catalog/connections.yaml"
TARGETS = ("staging", "production")


def catalog(project: Project) -> Catalog:
    return load_catalog(project.runbooks_dir / CATALOG)


def export_dir(runtime: Runtime) -> Path:
    return runtime.state_dir / "db-export"


def import_dir(runtime: Runtime) -> Path:
    return runtime.state_dir / "db-import"


def last_import_path(runtime: Runtime, target: str) -> Path:
    return runtime.state_dir / f"db-{target}.last"


def prefix(delivery: str) -> str:
    return f"{delivery}/db/"


def committed_in_bucket(s3, bucket: str) -> list[str]:
    """The deliveries whose database part is committed in the bucket, in order."""
    return [name for name in delivery_prefixes(s3, bucket) if MANIFEST_FILE in objects_under(s3, bucket, prefix(name))]


@one_at_a_time
def export(runtime: Runtime, *, org_id: str, bucket: str, delivery: str, source_databases: Mapping[str, str],
           progress: Progress | None = None) -> dict[str, Any]:
    """Export the org's rows (`initial`, or `delta` against what the bucket already holds) and send them."""
    s3, root = runtime.s3(bucket), export_dir(runtime)
    source = database_urls(source_databases, runtime.project.root)
    if runtime.dry_run:
        return {"dry_run": True, **planned_export(catalog(runtime.project), source, org_id, committed_in_bucket(s3, bucket), delivery)}
    if delivery != INITIAL:  # a delta compares with the last delivery: have every committed one here
        committed = committed_in_bucket(s3, bucket)
        for name in committed:
            download_folder(s3, bucket, prefix(name), root / name, f"database delivery {name}")
        delivery = bucket_delivery(committed, delivery)
    exported = export_org(catalog(runtime.project), source, org_id, root, delivery, progress=progress or runtime.progress.rows())
    if exported.manifest.delivery == INITIAL and not any(table.rows_total for table in exported.manifest.tables):
        shutil.rmtree(exported.folder)  # nothing of it reaches the bucket, and a corrected org id starts afresh
        raise unknown_org(org_id)
    moved = upload_folder(s3, bucket, prefix(exported.manifest.delivery), exported.folder)
    tables = exported.manifest.tables
    return {"delivery": exported.manifest.delivery, "tables": len(tables), "rows": sum(t.rows for t in tables),
            "deleted": sum(len(t.deleted) for t in tables), "files_sent": moved.files, "bytes_sent": moved.bytes}


def unknown_org(org_id: str) -> OffboardError:
    return OffboardError(f"org {org_id} has no rows in the source databases: check offboard:orgId; nothing was exported")


def org_rows(catalog: Catalog, sources: Mapping[str, str], org_id: str) -> int:
    """The org's rows at the source, over every table of the catalog."""
    tables = catalog.tables()
    with opened_engines(sources, dict.fromkeys(table.database for table in tables), "source") as engines:
        rows = 0
        for spec in tables:
            engine = engines[spec.database]
            with database_errors(engine, f"counting {spec.qualified}"), engine.connect() as connection:
                rows += count_rows(connection, spec.shape(), org_id)
        return rows


def bucket_delivery(committed: list[str], delivery: str) -> str:
    """`delta` as the delivery after the last one committed in the bucket: one that an interrupted
    export committed here but did not finish sending is that one, and is sent, not exported anew."""
    return delivery_name(delivery_number(committed[-1]) + 1) if delivery == "delta" and committed else delivery


def planned_export(catalog: Catalog, sources: Mapping[str, str], org_id: str, committed: list[str], delivery: str) -> dict[str, Any]:
    """The delivery an export would write and the org's rows it would read, counted at the source."""
    name = bucket_delivery(committed, delivery)
    return {"delivery": name, "already_committed": name in committed, "tables": len(catalog.tables()),
            "org_rows_at_source": org_rows(catalog, sources, org_id)}


def manifest_in_bucket(s3, bucket: str, delivery: str, catalog: Catalog) -> Manifest:
    """A committed delivery's manifest, refused (as the import refuses it) unless its tables are the catalog's."""
    where = f"s3://{bucket}/{prefix(delivery)}{MANIFEST_FILE}"
    try:
        manifest = Manifest.model_validate_json(s3.get_object(Bucket=bucket, Key=prefix(delivery) + MANIFEST_FILE)["Body"].read())
    except ValidationError as error:
        raise OffboardError(f"{where}: {describe(error)}") from None
    catalogued(manifest, catalog, where)
    return manifest


@one_at_a_time
def download(runtime: Runtime, *, bucket: str, delivery: str) -> dict[str, Any]:
    """Fetch committed database deliveries from the bucket to the MSP side."""
    if runtime.dry_run:
        s3 = runtime.s3(bucket)
        names = pick(committed_in_bucket(s3, bucket), delivery, "database", bucket)
        sizes = [size for name in names for size in objects_under(s3, bucket, prefix(name)).values()]
        return {"dry_run": True, "deliveries": names, "files": len(sizes), "bytes": sum(sizes), "into": str(import_dir(runtime))}
    _, moved = fetch(runtime, bucket, delivery)
    return {"files": sum(m.files for m in moved), "bytes": sum(m.bytes for m in moved)}


def fetch(runtime: Runtime, bucket: str, delivery: str) -> tuple[list[str], list[Moved]]:
    """The committed deliveries `delivery` names, in order, each fetched into the import folder."""
    s3 = runtime.s3(bucket)
    names = pick(committed_in_bucket(s3, bucket), delivery, "database", bucket)
    moved = [download_folder(s3, bucket, prefix(name), import_dir(runtime) / name, f"database delivery {name}") for name in names]
    return names, moved


@one_at_a_time
def import_(runtime: Runtime, *, org_id: str, target_org_id: str, bucket: str, delivery: str, target: str,
            target_databases: Mapping[str, str], progress: Progress | None = None) -> dict[str, Any]:
    """Load deliveries (in order) into the target; its fix-up report is void afterwards."""
    urls = target_urls(runtime, target, target_databases)
    if runtime.dry_run:
        s3 = runtime.s3(bucket)
        names = pick(committed_in_bucket(s3, bucket), delivery, "database", bucket)
        manifests = [manifest_in_bucket(s3, bucket, name, catalog(runtime.project)) for name in names]
        return {"dry_run": True, "deliveries": names, "target": target, "databases": sorted(urls),
                "rows": sum(table.rows for manifest in manifests for table in manifest.tables),
                "deleted": sum(len(table.deleted) for manifest in manifests for table in manifest.tables)}
    names, _ = fetch(runtime, bucket, delivery)
    figures: dict[str, Any] = {"deliveries": names, "rows": 0, "deleted": 0}
    merges, progress = merges_path(runtime.state_dir, target), progress or runtime.progress.rows()
    for name in names:
        result = import_delivery(catalog(runtime.project), import_dir(runtime) / name, urls, org_id=org_id,
                                 target_org_id=target_org_id, merged=merged_keys(read_merges(merges)), progress=progress)
        if name == INITIAL:  # the org's rows were absent (or exactly the delivery's): nothing of theirs is merged
            merges.unlink(missing_ok=True)
        figures["rows"] += sum(table.rows for table in result.tables)
        figures["deleted"] += sum(table.deleted for table in result.tables)
    report_path(runtime.state_dir, target).unlink(missing_ok=True)
    last_import_path(runtime, target).write_text(names[-1], encoding="utf-8")
    return figures


def verify(runtime: Runtime, *, org_id: str, target_org_id: str, target: str, target_databases: Mapping[str, str],
           progress: Progress | None = None) -> VerifyResult:
    """The target against the last delivery imported into it, and its fix-up report if one ran since,
    with the unmapped ids of that report the journal does not accept."""
    last = last_import_path(runtime, target)
    if not last.is_file():
        raise OffboardError(f"nothing was imported into {target} for stack {runtime.stack}: run `offboard db import` first")
    fixed = report_path(runtime.state_dir, target)
    report = FixupReport.load(fixed) if fixed.is_file() else None
    result = verify_target(catalog(runtime.project), import_dir(runtime) / last.read_text(encoding="utf-8"),
                           target_urls(runtime, target, target_databases),
                           org_id=org_id, target_org_id=target_org_id, fixup_report=report,
                           progress=progress or runtime.progress.rows())
    if report is not None:  # and its people: an unmapped id fails verify until mapped or accepted
        people = decide(report, Journal.of_stack(runtime.project, runtime.stack).acceptances(), target)
        result = dataclasses.replace(result, unmapped_open=people.open, unmapped_accepted=people.accepted,
                                     merged=people.merged, guests=people.guests)
    if not runtime.dry_run:
        proof = {**dataclasses.asdict(result), "ok": result.ok, "tables_ok": not result.failures}
        (runtime.state_dir / f"verify-db-{target}.json").write_text(json.dumps(proof, indent=2), encoding="utf-8")
    return result


def target_urls(runtime: Runtime, target: str, databases: Mapping[str, str]) -> dict[str, str]:
    if target not in TARGETS:
        raise OffboardError(f"unknown target {target!r}: choose staging or production")
    return database_urls(databases, runtime.project.root)
