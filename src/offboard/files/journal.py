"""The resume point of an export: one record per committed archive, next to the archives.

An archive counts as committed once its upload completed AND its record was written. A rerun
keeps the committed archives whose members are still what the source holds and removes
everything else the interrupted run left: unfinished multipart uploads, archives without a
record, archives with a stale member. The bucket is versioned, so a removed object stays a
noncurrent version until the lifecycle expires it.
"""

from __future__ import annotations

from typing import Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from offboard.files.layout import ARCHIVE, archive_key, files_prefix, journal_key, journal_prefix
from offboard.files.manifest import SHA256, Member
from offboard.files.scan import SourceFile
from offboard.transfer.folders import objects_under


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


def still_current(record: ArchiveRecord, to_send: Mapping[str, SourceFile]) -> bool:
    return all(
        name in to_send and (to_send[name].size, to_send[name].mtime_ns) == (member.size, member.mtime_ns)
        for name, member in record.members.items()
    )


def recover(s3, bucket: str, delivery: str, to_send: Mapping[str, SourceFile]) -> list[ArchiveRecord]:
    """The archives an earlier attempt committed that still hold current files; the rest is removed."""
    abort_unfinished_uploads(s3, bucket, delivery)
    archives = {archive_key(delivery, name): size for name, size in objects_under(s3, bucket, archive_key(delivery, "")).items()}
    journal = [journal_prefix(delivery) + name for name in objects_under(s3, bucket, journal_prefix(delivery))]
    kept: list[ArchiveRecord] = []
    carried: set[str] = set()
    for record in filter(None, (read_record(s3, bucket, key) for key in sorted(journal))):
        complete = archives.get(archive_key(delivery, record.archive)) == record.size
        if complete and still_current(record, to_send) and carried.isdisjoint(record.members):
            kept.append(record)
            carried.update(record.members)
    keep = {journal_key(delivery, r.archive) for r in kept} | {archive_key(delivery, r.archive) for r in kept}
    stale = [key for key in journal if key not in keep]
    stale += [key for key in archives if key not in keep]  # records first: never a record without its archive
    for key in stale:
        s3.delete_object(Bucket=bucket, Key=key)
    return kept
