"""What a delivery sends: files added or changed since the earlier deliveries, and those deleted."""

from __future__ import annotations

from typing import Mapping

from offboard.files.hashing import sha256_file
from offboard.files.manifest import FileEntry
from offboard.files.scan import SourceFile


def changed(source: SourceFile, before: FileEntry | None, checksum: bool) -> bool:
    """Size and mtime decide quickly; with `checksum` the content does (mtime alone is not a change)."""
    if before is None or source.size != before.size:
        return True
    if checksum:
        return sha256_file(source.path) != before.sha256
    return source.mtime_ns != before.mtime_ns


def changes(found: list[SourceFile], missing: list[str], earlier: Mapping[str, FileEntry],
            checksum: bool = False) -> tuple[list[SourceFile], list[str]]:
    """(files to send, names deleted). A file the database still names but the store lacks is not deleted."""
    to_send = [source for source in found if changed(source, earlier.get(source.name), checksum)]
    selected = {source.name for source in found}.union(missing)
    deleted = sorted(name for name in earlier if name not in selected)
    return to_send, deleted
