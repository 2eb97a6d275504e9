"""Writing one planned archive as a PAX tar into a stream, hashing each file as it is read."""

from __future__ import annotations

import os
import tarfile
import threading
from typing import BinaryIO

from offboard.errors import OffboardError
from offboard.files.hashing import CHUNK, HashingReader
from offboard.files.manifest import Member
from offboard.files.parallel import Cancelled
from offboard.files.plan import ArchivePlan
from offboard.files.progress import Progress
from offboard.files.scan import SourceFile


def write_archive(plan: ArchivePlan, sink: BinaryIO, progress: Progress, cancelled: threading.Event) -> dict[str, Member]:
    """Write the plan's files into `sink`; return each one as it was read."""
    members = {}
    with tarfile.open(fileobj=sink, mode="w", format=tarfile.PAX_FORMAT, encoding="utf-8", copybufsize=CHUNK) as tar:
        for source in plan.files:
            if cancelled.is_set():
                raise Cancelled
            members[source.name] = add_file(tar, source, progress)
    return members


def add_file(tar: tarfile.TarFile, source: SourceFile, progress: Progress) -> Member:
    """The file as it is when opened (it may have changed since the scan); a change while read is an error."""
    try:
        handle = open(source.path, "rb")
    except FileNotFoundError:
        raise OffboardError(f"{source.name} disappeared during the export; run the export again") from None
    with handle:
        before = os.fstat(handle.fileno())
        info = tarfile.TarInfo(source.name)
        info.size, info.mtime, info.mode = before.st_size, before.st_mtime_ns // 1_000_000_000, 0o644
        reader = HashingReader(handle, lambda n: progress.advance(bytes=n))
        try:
            tar.addfile(info, reader)
        except OSError as error:
            if reader.size < before.st_size:  # tarfile's "unexpected end of data": the file shrank
                raise OffboardError(f"{source.name} changed while it was read; run the export again") from None
            raise OffboardError(f"{source.name}: {error}") from None
        after = os.fstat(handle.fileno())
        if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
            raise OffboardError(f"{source.name} changed while it was read; run the export again")
    progress.advance(files=1)
    return Member(before.st_size, before.st_mtime_ns, reader.hexdigest())
