"""The export steps of a stack without source settings: IBM's side exports, the MSP's run waits.

An MSP's machine does not reach the cloud's databases, so IBM runs the export modules that
`offboard runbook handover` gives it (offboard.runbook.handover). The MSP's module of each export
step looks once into the customer's bucket: a delivery part exists when its manifest is there,
written last by the export (`<delivery>/files/manifest.jsonl`, `<delivery>/db/manifest.json`).
Until then the step raises `Waiting`; once it is there, the manifest is read as the import will
read it and checked against what the bucket holds beside it, and the step's figures say what
arrived and when. Every byte of the bucket is someone else's: a manifest is read only up to a
bound (the files manifest as a stream into an index on disk, as the import reads it), and what it
says is never echoed at length.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable, TypeVar

from botocore.exceptions import ClientError
from pydantic import BaseModel, ValidationError

from offboard.db import manifest as db_manifest
from offboard.db.stages import catalog
from offboard.db.stages import prefix as db_prefix
from offboard.errors import OffboardError, Waiting
from offboard.files import deliveries
from offboard.files.index import FileIndex
from offboard.files.layout import archive_key, manifest_key
from offboard.runtime import Runtime
from offboard.transfer.folders import objects_under
from offboard.validation import describe

MAX_MANIFEST_BYTES = 256 << 20  # of the database manifest, parsed whole (the files manifest is streamed: its bound is the reader's)
SHOWN_PROBLEM = 200  # characters of a problem with the bucket's content that a message shows
SHOWN_REFUSAL = 600  # characters of a manifest's refusal, which may quote a name of up to 64 KiB

Document = TypeVar("Document", bound=BaseModel)


def files_arrived(runtime: Runtime, *, org_id: str, bucket: str, delivery: str) -> dict[str, Any]:
    """The files part of `delivery` as IBM committed it, or `Waiting` while it is not."""
    s3, key = runtime.s3(bucket), manifest_key(delivery)
    head = deliveries.manifest_head(s3, bucket, delivery)
    if head is None:
        raise Waiting(f"files delivery {delivery} is not committed in bucket {bucket} yet")
    with FileIndex() as index:  # read as the import reads it: a stream, checked line by line, on disk
        try:
            manifest = deliveries.read_manifest(s3, bucket, delivery, org_id, index, head)
        except OffboardError as error:
            raise OffboardError(f"{clipped(str(error), SHOWN_REFUSAL)}; ask IBM to export {delivery} again") from None
        archives = {name: entry.size for name, entry in manifest.archives().items()}
    all_there(bucket, key, archives, objects_under(s3, bucket, archive_key(delivery, "")))
    counts = manifest.counts
    return {"delivery": delivery, "committed": utc(head["LastModified"]), "files": counts.files, "deleted": counts.deleted,
            "missing_at_source": counts.missing, "archives": counts.archives, "bytes": counts.bytes}


def database_arrived(runtime: Runtime, *, org_id: str, bucket: str, delivery: str) -> dict[str, Any]:
    """The database part of `delivery` as IBM committed it, or `Waiting` while it is not."""
    s3, folder = runtime.s3(bucket), db_prefix(delivery)
    key = folder + db_manifest.MANIFEST_FILE
    manifest, committed = committed_manifest(s3, bucket, key, "database", delivery, db_manifest.Manifest.model_validate_json)
    same_delivery(manifest.org_id, manifest.delivery, org_id, delivery, bucket, key)
    tables = [entry for _, entry in db_manifest.catalogued(manifest, catalog(runtime.project), f"s3://{bucket}/{key}")]
    files = {info.file: info.bytes for entry in tables for info in [*entry.chunks, entry.index]}
    files.update({info.lobs.file: info.lobs.bytes for entry in tables for info in entry.chunks if info.lobs})
    all_there(bucket, key, files, objects_under(s3, bucket, folder))
    return {"delivery": delivery, "committed": committed, "tables": len(tables), "rows": sum(entry.rows for entry in tables),
            "deleted": sum(len(entry.deleted) for entry in tables), "files": len(files), "bytes": sum(files.values())}


def committed_manifest(s3, bucket: str, key: str, part: str, delivery: str,
                       parse: Callable[[bytes], Document]) -> tuple[Document, str]:
    """The manifest at `key` and when it was written (its LastModified, ISO 8601 UTC); `Waiting`
    while it is absent: the export writes it last, so a part without it is still being sent."""
    try:
        answer = s3.get_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
            raise Waiting(f"{part} delivery {delivery} is not committed in bucket {bucket} yet") from None
        raise
    where = f"s3://{bucket}/{key}"
    with answer["Body"] as body:  # the size it announces is checked, and then the bytes it sends
        data = body.read(MAX_MANIFEST_BYTES + 1) if answer["ContentLength"] <= MAX_MANIFEST_BYTES else None
    if data is None or len(data) > MAX_MANIFEST_BYTES:
        raise OffboardError(f"{where} is larger than {MAX_MANIFEST_BYTES >> 20} MiB: not a manifest; "
                            f"ask IBM to export {delivery} again")
    try:
        manifest = parse(data)
    except ValidationError as error:
        raise OffboardError(f"{where} is not a valid {part} manifest ({clipped(describe(error))}); "
                            f"ask IBM to export {delivery} again") from None
    return manifest, utc(answer["LastModified"])


def utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def same_delivery(found_org: str, found_delivery: str, org_id: str, delivery: str, bucket: str, key: str) -> None:
    """The manifest is the one awaited: a manifest copied from another org or delivery is refused."""
    if (found_org, found_delivery) != (org_id, delivery):
        raise OffboardError(f"s3://{bucket}/{key} is delivery {found_delivery} of org {found_org}, not {delivery} of org {org_id}")


def all_there(bucket: str, key: str, named: dict[str, int], present: dict[str, int]) -> None:
    """Every file the manifest names is in the bucket, at the size it gives: a manifest is written
    last, so one without its files was not written by a finished export."""
    for name, size in sorted(named.items()):
        if present.get(name) != size:
            held = "is absent" if name not in present else f"holds {present[name]} bytes"
            raise OffboardError(f"s3://{bucket}/{key} names {clipped(name)} of {size} bytes, but the bucket {held}: "
                                "the delivery is incomplete; ask IBM to export it again")


def clipped(text: str, limit: int = SHOWN_PROBLEM) -> str:
    """A piece of the bucket's content, short enough for one line."""
    return text if len(text) <= limit else text[:limit] + "…"
