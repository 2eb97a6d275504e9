"""The resume point of an export: one record per committed archive, next to the archives.

An archive counts as committed once its upload completed AND its record was written. A rerun
keeps the committed archives whose members are still what the source holds and removes
everything else the interrupted run left: unfinished multipart uploads, archives without a
record, archives with a stale member. The bucket is versioned, so a removed object stays a
noncurrent version until the lifecycle expires it.

What is committed goes into the index (`offboard.files.index`), one archive's members at a
time: `resumed` for what an earlier run committed, `sent` for what this run sends, and
`archive_sent` for the archives of both; the manifest is written from those tables.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from offboard.files.index import FileIndex
from offboard.files.layout import ARCHIVE, archive_key, archive_number, files_prefix, journal_key, journal_prefix
from offboard.files.manifest import SHA256, Member
from offboard.transfer.folders import objects_under

SCHEMA = """
CREATE TABLE resumed (name TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, sha256 TEXT, archive TEXT) WITHOUT ROWID;
CREATE TABLE sent (name TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, sha256 TEXT, archive TEXT) WITHOUT ROWID;
CREATE TABLE archive_sent (name TEXT PRIMARY KEY, size INTEGER, sha256 TEXT, files INTEGER) WITHOUT ROWID;
"""


class ArchiveRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    archive: str = Field(pattern=ARCHIVE.pattern)
    size: int = Field(ge=0)
    sha256: str = Field(pattern=SHA256)
    members: dict[str, Member]


def write_record(s3, bucket: str, delivery: str, record: ArchiveRecord) -> None:
    s3.put_object(Bucket=bucket, Key=journal_key(delivery, record.archive), Body=record.model_dump_json().encode())


def abort_unfinished_uploads(s3, bucket: str, delivery: str) -> int:
    aborted = 0
    for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket, Prefix=files_prefix(delivery)):
        for upload in page.get("Uploads", []):
            s3.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
            aborted += 1
    return aborted


def read_record(s3, bucket: str, key: str) -> ArchiveRecord | None:
    """A record, or None when it is unreadable (as good as absent)."""
    try:
        return ArchiveRecord.model_validate_json(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except ValidationError:
        return None


def keep(index: FileIndex, record: ArchiveRecord, table: str) -> None:
    """An archive committed: its members into `table` (resumed or sent), the archive into archive_sent."""
    index.db.execute("BEGIN")
    index.db.execute("INSERT INTO archive_sent VALUES (?, ?, ?, ?)", (record.archive, record.size, record.sha256, len(record.members)))
    index.db.executemany(f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?)",
                         ((name, m.size, m.mtime_ns, m.sha256, record.archive) for name, m in record.members.items()))
    index.db.execute("COMMIT")


def still_current(index: FileIndex, record: ArchiveRecord) -> bool:
    """Every member is to be sent as it is now at the source, and no archive kept already carries it."""
    for name, member in record.members.items():
        now = index.db.execute("SELECT size, mtime_ns FROM send WHERE name = ?", (name,)).fetchone()
        if now != (member.size, member.mtime_ns) or index.db.execute("SELECT 1 FROM resumed WHERE name = ?", (name,)).fetchone():
            return False
    return True


def recover(s3, bucket: str, delivery: str, index: FileIndex) -> int:
    """Keep the archives an earlier attempt committed that still hold current files (into `resumed`,
    the index's `send` being what this delivery sends); remove the rest; return the highest archive
    number kept (0 when none)."""
    index.db.executescript(SCHEMA)
    abort_unfinished_uploads(s3, bucket, delivery)
    archives = {archive_key(delivery, name): size for name, size in objects_under(s3, bucket, archive_key(delivery, "")).items()}
    journal = [journal_prefix(delivery) + name for name in objects_under(s3, bucket, journal_prefix(delivery))]
    kept: list[str] = []
    for key in sorted(journal):
        record = read_record(s3, bucket, key)
        if (record and key == journal_key(delivery, record.archive) and archives.get(archive_key(delivery, record.archive)) == record.size
                and still_current(index, record)):
            keep(index, record, "resumed")
            kept.append(record.archive)
    keys = {journal_key(delivery, name) for name in kept} | {archive_key(delivery, name) for name in kept}
    stale = [key for key in journal if key not in keys]
    stale += [key for key in archives if key not in keys]  # records first: never a record without its archive
    for key in stale:
        s3.delete_object(Bucket=bucket, Key=key)
    return max(map(archive_number, kept), default=0)
