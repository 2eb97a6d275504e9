"""The selected files as they are now at the source: size and mtime, or absent, into the index.

One lstat-free `stat` per file and one row per file in the index's `source` table: nothing per
file stays in memory, however many files the org's rows name.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from typing import Iterator

from offboard.errors import OffboardError
from offboard.files.index import FileIndex
from offboard.files.selection import Selection, StoreFolders, file_name

SCHEMA = "CREATE TABLE source (name TEXT PRIMARY KEY, path TEXT NOT NULL, size INTEGER, mtime_ns INTEGER) WITHOUT ROWID"


@dataclass(frozen=True, slots=True)
class SourceFile:
    name: str
    path: str
    size: int
    mtime_ns: int


def scan(index: FileIndex, folders: StoreFolders, selection: Selection) -> None:
    """Every selected file, once, into `source` (size NULL: the selection names it, the store lacks it);
    a name that is not canonical, leads out of its root or is not a regular file is refused."""
    index.db.execute(SCHEMA)

    def rows() -> Iterator[tuple]:
        for store, relative in selection:
            name = file_name(store, relative)
            path = folders.path(name)
            try:
                info = os.stat(path)
            except (FileNotFoundError, NotADirectoryError):
                yield name, path, None, None
                continue
            if not stat.S_ISREG(info.st_mode):
                raise OffboardError(f"{name} at {path} is not a regular file")
            yield name, path, info.st_size, info.st_mtime_ns

    index.insert("INSERT OR IGNORE INTO source VALUES (?, ?, ?, ?)", rows())
