"""Export: the org's selected files into the customer's bucket as one delivery, manifest last.

Run it again after any interruption: committed archives stay, the rest is sent, and the
manifest appears only when every archive it names is in the bucket.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from offboard.files.deliveries import earlier_manifests, read_manifest, resolve_delivery
from offboard.files.delta import changes
from offboard.files.journal import ArchiveRecord, recover, write_record
from offboard.files.layout import archive_key, archive_number, manifest_key
from offboard.files.manifest import (
    FORMAT,
    ArchiveEntry,
    FileEntry,
    Manifest,
    cumulative,
    now,
)
from offboard.files.parallel import run_all
from offboard.files.plan import ArchivePlan, plan_archives
from offboard.files.progress import Progress, Silent
from offboard.files.scan import SourceFile, scan
from offboard.files.selection import Selection, StoreRoots, locate
from offboard.files.settings import TransferSettings
from offboard.files.tarwrite import write_archive
from offboard.files.upload import ArchiveUpload, PartPool


@dataclass(frozen=True)
class ExportResult:
    manifest: Manifest
    already_committed: bool = False
    archives_sent: int = 0
    archives_resumed: int = 0  # committed by an earlier, interrupted run
    bytes_sent: int = 0  # file data read and sent by this run


@dataclass(frozen=True)
class ExportPlan:
    """What an export would do, read from the source and the bucket without changing either."""

    delivery: str
    committed: Manifest | None  # the delivery is already in the bucket: nothing to do
    to_send: list[SourceFile]
    deleted: list[str]
    missing: list[str]  # named by the database, absent from the store


def plan_export(s3, bucket: str, org_id: str, roots: StoreRoots, selection: Selection, delivery: str,
                checksum: bool = False) -> ExportPlan:
    """The delivery's name (`delta` resolved), and the files it sends and records as deleted."""
    selected = locate(roots, selection)  # bad input fails before the bucket is touched
    delivery = resolve_delivery(s3, bucket, org_id, delivery)
    committed = read_manifest(s3, bucket, delivery, org_id)
    if committed is not None:
        return ExportPlan(delivery, committed, [], [], [])
    earlier = cumulative(earlier_manifests(s3, bucket, org_id, delivery))
    found, missing = scan(selected)
    to_send, deleted = changes(found, missing, earlier, checksum)
    return ExportPlan(delivery, None, to_send, deleted, missing)


def export_files(s3, bucket: str, org_id: str, roots: StoreRoots, selection: Selection, delivery: str = "initial", *,
                 checksum: bool = False, settings: TransferSettings = TransferSettings(),
                 progress: Progress | None = None) -> ExportResult:
    """Export one delivery: `initial`, `delta` (the next one) or an explicit `delta-N`."""
    planned = plan_export(s3, bucket, org_id, roots, selection, delivery, checksum)
    if planned.committed is not None:
        return ExportResult(planned.committed, already_committed=True)
    delivery, to_send = planned.delivery, planned.to_send
    kept = recover(s3, bucket, delivery, {source.name: source for source in to_send})
    carried = {name for record in kept for name in record.members}
    first = 1 + max((archive_number(record.archive) for record in kept), default=0)
    plans = plan_archives([source for source in to_send if source.name not in carried], settings, first)
    progress = progress or Silent()
    progress.start(sum(plan.data_bytes for plan in plans), sum(len(plan.files) for plan in plans))
    sent = send_archives(s3, bucket, delivery, plans, settings, progress)
    manifest = build_manifest(org_id, delivery, [*kept, *sent], planned.deleted, planned.missing)
    s3.put_object(Bucket=bucket, Key=manifest_key(delivery), Body=manifest.to_json().encode(), ContentType="application/json")
    return ExportResult(manifest, archives_sent=len(sent), archives_resumed=len(kept),
                        bytes_sent=sum(member.size for record in sent for member in record.members.values()))


def send_archives(s3, bucket: str, delivery: str, plans: list[ArchivePlan], settings: TransferSettings,
                  progress: Progress) -> list[ArchiveRecord]:
    """Several archives in flight, their parts sharing one pool; the first failure stops them all."""
    with PartPool(settings.parts_in_flight, settings.archives_in_flight) as parts:
        def send(plan: ArchivePlan, cancelled: threading.Event) -> ArchiveRecord:
            return send_archive(s3, bucket, delivery, plan, settings, parts, progress, cancelled)

        records = run_all(send, plans, settings.archives_in_flight)
    return sorted(records, key=lambda record: record.archive)


def send_archive(s3, bucket: str, delivery: str, plan: ArchivePlan, settings: TransferSettings, parts: PartPool,
                 progress: Progress, cancelled: threading.Event) -> ArchiveRecord:
    upload = ArchiveUpload(s3, bucket, archive_key(delivery, plan.name), settings.part_size(plan.size), parts)
    try:
        members = write_archive(plan, upload, progress, cancelled)
        size, sha256 = upload.finish()
    except BaseException:
        upload.abort()
        raise
    record = ArchiveRecord(archive=plan.name, size=size, sha256=sha256, members=members)
    write_record(s3, bucket, delivery, record)
    return record


def build_manifest(org_id: str, delivery: str, records: list[ArchiveRecord], deleted: list[str], missing: list[str]) -> Manifest:
    return Manifest(
        format=FORMAT, org_id=org_id, delivery=delivery, created=now(),
        archives={r.archive: ArchiveEntry(size=r.size, sha256=r.sha256, files=len(r.members)) for r in records},
        files=dict(sorted((name, FileEntry(member.size, member.mtime_ns, member.sha256, r.archive))
                          for r in records for name, member in r.members.items())),
        deleted=deleted, missing=missing,
    )
