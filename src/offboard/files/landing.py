"""Landing one archive in staging: streamed from the bucket, every member checked and hashed.

Nothing is kept unless the archive's sha256 and size, each member's sha256 and size, and the
list of members all match the manifest.
"""

from __future__ import annotations

import hashlib
import os
import tarfile
import threading

from botocore.exceptions import ClientError

from offboard.errors import OffboardError
from offboard.files.download import ObjectStream
from offboard.files.hashing import CHUNK, HashingReader
from offboard.files.layout import archive_key
from offboard.files.manifest import ArchiveEntry, FileEntry
from offboard.files.members import UnsafeMember, check_member
from offboard.files.parallel import Cancelled
from offboard.files.progress import Progress
from offboard.files.staging import Staging

# tarfile's stream reader copies what is left of its buffer at every header: reads of 64 KiB
# keep both that copying and the number of reads from the network small.
TAR_READ = 64 * 1024


def land_archive(s3, bucket: str, delivery: str, archive: str, entry: ArchiveEntry, expected: dict[str, FileEntry],
                 staging: Staging, progress: Progress, cancelled: threading.Event) -> dict[str, str]:
    """Stage the archive's files; return where each one is staged."""
    key = archive_key(delivery, archive)
    where = f"archive {archive} of delivery {delivery}"
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in {"404", "NoSuchKey"}:
            raise OffboardError(f"{where} is missing from bucket {bucket}") from None
        raise
    if head["ContentLength"] != entry.size:
        raise OffboardError(f"{where} is {head['ContentLength']} bytes, the manifest says {entry.size}: it was altered")
    reader = ObjectStream(s3, bucket, key, entry.size, head["ETag"])
    stream = HashingReader(reader, lambda n: progress.advance(bytes=n))
    staged: dict[str, str] = {}
    try:
        with tarfile.open(fileobj=stream, mode="r|", encoding="utf-8", bufsize=TAR_READ) as tar:
            for member in tar:
                if cancelled.is_set():
                    raise Cancelled
                check_member(member, expected, staged.keys(), staging.folder)
                if member.isfile():
                    staged[member.name] = staging.path(member.name)
                    extract(tar, member, expected[member.name], staged[member.name])
                    progress.advance(files=1)
        stream.drain()
    except UnsafeMember as error:
        raise OffboardError(f"{where}: {error}; the target was not changed") from None
    except tarfile.TarError as error:
        raise OffboardError(f"{where} could not be read as a tar archive ({error}); the target was not changed") from None
    except ClientError as error:
        raise OffboardError(f"{where} could not be downloaded ({error.response.get('Error', {}).get('Code')}); the target was not changed") from None
    except OSError as error:
        raise OffboardError(f"{where} could not be staged ({error}); the target was not changed") from None
    finally:
        reader.close()
    if stream.size != entry.size or stream.hexdigest() != entry.sha256:
        raise OffboardError(f"{where}: its sha256 differs from the manifest's: it was altered or damaged; the target was not changed")
    if len(staged) != len(expected):
        absent = sorted(set(expected) - set(staged))
        raise OffboardError(f"{where} lacks {len(absent)} file(s) of the manifest, e.g. {absent[0]}; the target was not changed")
    return staged


def extract(tar: tarfile.TarFile, member: tarfile.TarInfo, entry: FileEntry, path: str) -> None:
    """Write one member into staging while hashing it, then give it the source's mtime."""
    source = tar.extractfile(member)
    digest = hashlib.sha256()
    with open(path, "xb") as out:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != entry.sha256:
        raise UnsafeMember(f"{member.name!r} differs from the manifest (sha256)")
    os.utime(path, ns=(entry.mtime_ns, entry.mtime_ns))
