"""Export: the org's selected files into the customer's bucket as one delivery, manifest last.

Run it again after any interruption: committed archives stay, the rest is sent, and the
manifest appears only when every archive it names is in the bucket. What is known of each file
(the scan, the earlier deliveries, what was sent) lives in an on-disk index, not in memory.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from offboard.files import delta
from offboard.files.deliveries import earlier_manifests, read_manifest, resolve_delivery
from offboard.files.index import FileIndex
from offboard.files.journal import ArchiveRecord, keep, recover, write_record
from offboard.files.layout import archive_key, manifest_key
from offboard.files.manifest import ArchiveEntry, Counts, FileEntry, Header, now, write_manifest
from offboard.files.parallel import run_all
from offboard.files.plan import ArchivePlan, plan_archives
from offboard.files.progress import Progress, Silent
from offboard.files.scan import scan
from offboard.files.selection import Selection, StoreFolders, StoreRoots
from offboard.files.settings import TransferSettings
from offboard.files.tarwrite import write_archive
from offboard.files.upload import ArchiveUpload, PartPool
from offboard.transfer.folders import TRANSFER


@dataclass(frozen=True)
class ExportResult:
    delivery: str
    files: int
    deleted: int
    missing: int
    archives: int
    already_committed: bool = False
    archives_sent: int = 0
    archives_resumed: int = 0  # committed by an earlier, interrupted run
    bytes_sent: int = 0  # file data read and sent by this run


@dataclass(frozen=True)
class ExportPlan:
    """What an export would do, read from the source and the bucket without changing either."""

    delivery: str
    committed: Counts | None  # the delivery is already in the bucket: nothing to do
    files_to_send: int = 0
    bytes_to_send: int = 0
    deleted: int = 0
    missing: int = 0  # named by the database, absent from the store


def _plan(index: FileIndex, s3, bucket: str, org_id: str, roots: StoreRoots, selection: Selection, delivery: str,
          checksum: bool) -> ExportPlan:
    """The source scanned and the files to send chosen, into the index."""
    scan(index, StoreFolders(roots), selection)  # bad input fails before the bucket is read
    delivery = resolve_delivery(s3, bucket, delivery)
    committed = read_manifest(s3, bucket, delivery, org_id, index)
    if committed is not None:
        return ExportPlan(delivery, committed.counts)
    index.fold(earlier_manifests(s3, bucket, org_id, delivery, index))
    delta.choose(index, checksum)
    files, size = index.db.execute("SELECT count(*), coalesce(sum(size), 0) FROM send").fetchone()
    deleted = index.db.execute("SELECT count(*) FROM folded WHERE name NOT IN (SELECT name FROM source)").fetchone()[0]
    missing = index.db.execute("SELECT count(*) FROM source WHERE size IS NULL").fetchone()[0]
    return ExportPlan(delivery, None, files, size, deleted, missing)


def plan_export(s3, bucket: str, org_id: str, roots: StoreRoots, selection: Selection, delivery: str,
                checksum: bool = False) -> ExportPlan:
    """The delivery's name (`delta` resolved), and the files it sends and records as deleted."""
    with FileIndex() as index:
        return _plan(index, s3, bucket, org_id, roots, selection, delivery, checksum)


def export_files(s3, bucket: str, org_id: str, roots: StoreRoots, selection: Selection, delivery: str = "initial", *,
                 checksum: bool = False, settings: TransferSettings = TransferSettings(),
                 progress: Progress | None = None) -> ExportResult:
    """Export one delivery: `initial`, `delta` (the next one) or an explicit `delta-N`."""
    with FileIndex() as index:
        planned = _plan(index, s3, bucket, org_id, roots, selection, delivery, checksum)
        delivery = planned.delivery
        if planned.committed is not None:
            counts = planned.committed
            return ExportResult(delivery, counts.files, counts.deleted, counts.missing, counts.archives, already_committed=True)
        last_kept = recover(s3, bucket, delivery, index)
        files, size = index.db.execute("SELECT count(*), coalesce(sum(size), 0) FROM send "
                                       "WHERE name NOT IN (SELECT name FROM resumed)").fetchone()
        progress = progress or Silent()
        progress.start(size, files)
        plans = plan_archives(delta.to_send(index, skipped="resumed"), settings, last_kept + 1)
        send_archives(s3, bucket, delivery, plans, settings, progress, lambda record: keep(index, record, "sent"))
        counts = upload_manifest(s3, bucket, index, Header(org_id, delivery, now()))
        sent, size = index.db.execute("SELECT count(DISTINCT archive), coalesce(sum(size), 0) FROM sent").fetchone()
        return ExportResult(delivery, counts.files, counts.deleted, counts.missing, counts.archives,
                            archives_sent=sent, archives_resumed=counts.archives - sent, bytes_sent=size)


def send_archives(s3, bucket: str, delivery: str, plans, settings: TransferSettings, progress: Progress, done) -> None:
    """Several archives in flight, their parts sharing one pool; `done(record)` for each committed
    archive; the first failure stops them all."""
    with PartPool(settings.parts_in_flight, settings.archives_in_flight) as parts:
        def send(plan: ArchivePlan, cancelled: threading.Event) -> ArchiveRecord:
            return send_archive(s3, bucket, delivery, plan, settings, parts, progress, cancelled)

        run_all(send, plans, settings.archives_in_flight, done)


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


def upload_manifest(s3, bucket: str, index: FileIndex, header: Header) -> Counts:
    """The manifest, written from the index into a scratch file and sent last: the delivery exists from now on."""
    path = index.scratch("manifest.jsonl")
    archives = ((name, ArchiveEntry(*entry)) for name, *entry in index.rows("SELECT * FROM archive_sent ORDER BY name"))
    files = ((name, FileEntry(*entry)) for name, *entry in
             index.rows("SELECT * FROM (SELECT * FROM resumed UNION ALL SELECT * FROM sent) ORDER BY name"))
    with open(path, "wb") as out:
        counts = write_manifest(out, header, archives, files, delta.deleted(index), delta.missing(index))
    s3.upload_file(path, bucket, manifest_key(header.delivery), ExtraArgs={"ContentType": "application/x-ndjson"}, Config=TRANSFER)
    return counts
