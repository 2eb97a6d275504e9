"""A delivery folder to and from the customer's bucket: many files in parallel, manifest last.

The folder's manifest is what makes a delivery exist: it is uploaded after every other file
and downloaded first, so a reader never sees a half-sent delivery. Both directions are
idempotent: an upload skips what the bucket already holds with the same size, a download what
the folder already holds with the same size; the manifest's sha256 of every file is what the
import checks, so a skipped file is still proven before it is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from boto3.s3.transfer import TransferConfig
from s3transfer.manager import TransferManager

from offboard.errors import OffboardError

MANIFEST = "manifest.json"
CONCURRENCY = 8
# Multipart from 64 MiB, in 64 MiB parts: few requests per file, several files in flight.
TRANSFER = TransferConfig(multipart_threshold=64 << 20, multipart_chunksize=64 << 20, max_concurrency=CONCURRENCY)


@dataclass(frozen=True)
class Moved:
    files: int  # moved now
    skipped: int  # already there
    bytes: int  # moved now


def objects_under(s3, bucket: str, prefix: str) -> dict[str, int]:
    """key (relative to prefix) -> size of every object under the prefix."""
    found: dict[str, int] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            found[item["Key"][len(prefix):]] = item["Size"]
    return found


def upload_folder(s3, bucket: str, prefix: str, folder: Path) -> Moved:
    """Send every file of `folder` under `prefix`, then its manifest; a committed prefix is left as it is."""
    present = objects_under(s3, bucket, prefix)
    if MANIFEST in present:
        return Moved(0, len(present), 0)
    files = sorted(path for path in folder.rglob("*") if path.is_file() and path.name != MANIFEST)
    if not (folder / MANIFEST).is_file():
        raise OffboardError(f"{folder} has no {MANIFEST}: the export did not finish")
    todo = [path for path in files if present.get(path.relative_to(folder).as_posix()) != path.stat().st_size]
    with TransferManager(s3, TRANSFER) as manager:
        futures = [manager.upload(str(path), bucket, prefix + path.relative_to(folder).as_posix()) for path in todo]
        for future in futures:
            future.result()
    s3.upload_file(str(folder / MANIFEST), bucket, prefix + MANIFEST)
    return Moved(len(todo) + 1, len(files) - len(todo), sum(path.stat().st_size for path in todo) + (folder / MANIFEST).stat().st_size)


def download_folder(s3, bucket: str, prefix: str, folder: Path, what: str) -> Moved:
    """Fetch a committed prefix into `folder`; refuse one without its manifest (`what` names it)."""
    present = objects_under(s3, bucket, prefix)
    if MANIFEST not in present:
        raise OffboardError(f"{what} is not in the bucket (no {prefix}{MANIFEST}): its export has not finished")
    folder.mkdir(parents=True, exist_ok=True)
    for name in present:
        target = (folder / name).resolve()
        if not target.is_relative_to(folder.resolve()):
            raise OffboardError(f"{what}: object {prefix}{name} would land outside {folder}")
    (folder / MANIFEST).unlink(missing_ok=True)  # until every other file is here
    todo = [name for name, size in present.items() if name != MANIFEST and not is_file_of_size(folder / name, size)]
    with TransferManager(s3, TRANSFER) as manager:
        futures = []
        for name in todo:
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            futures.append(manager.download(bucket, prefix + name, str(folder / name)))
        for future in futures:
            future.result()
    s3.download_file(bucket, prefix + MANIFEST, str(folder / MANIFEST))
    return Moved(len(todo) + 1, len(present) - len(todo) - 1, sum(present[name] for name in [*todo, MANIFEST]))


def is_file_of_size(path: Path, size: int) -> bool:
    return path.is_file() and path.stat().st_size == size
