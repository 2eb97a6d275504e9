"""What a delivery sends: files added or changed since the earlier deliveries, and those deleted.

Worked out in the index, from the source as scanned (`source`) and the earlier deliveries folded
(`folded`): size and mtime decide, so a delta costs one `stat` per file and reads only what
changed; with `checksum` the content decides where the size is the same (mtime alone is not a
change), which reads every such file.
"""

from __future__ import annotations

from typing import Iterator

from offboard.files.hashing import sha256_file
from offboard.files.index import FileIndex
from offboard.files.scan import SourceFile

SCHEMA = "CREATE TABLE send (name TEXT PRIMARY KEY, path TEXT NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL) WITHOUT ROWID"
CHANGED = ("SELECT s.name, s.path, s.size, s.mtime_ns FROM source s LEFT JOIN folded f USING (name) "
           "WHERE s.size IS NOT NULL AND (f.name IS NULL OR f.size != s.size OR ({}))")


def choose(index: FileIndex, checksum: bool = False) -> None:
    """Fill `send` with the files to send."""
    index.db.execute(SCHEMA)
    if not checksum:
        index.insert("INSERT INTO send VALUES (?, ?, ?, ?)", index.rows(CHANGED.format("f.mtime_ns != s.mtime_ns")))
        return
    index.insert("INSERT INTO send VALUES (?, ?, ?, ?)", index.rows(CHANGED.format("0")))
    same_size = index.rows("SELECT s.name, s.path, s.size, s.mtime_ns, f.sha256 FROM source s JOIN folded f USING (name) "
                           "WHERE f.size = s.size")
    index.insert("INSERT INTO send VALUES (?, ?, ?, ?)",
                 (row[:4] for row in same_size if sha256_file(row[1]) != row[4]))


def to_send(index: FileIndex, skipped: str | None = None) -> Iterator[SourceFile]:
    """The files to send in name order; but those in the table `skipped` (name column)."""
    where = f"WHERE name NOT IN (SELECT name FROM {skipped})" if skipped else ""
    return (SourceFile(*row) for row in index.rows(f"SELECT name, path, size, mtime_ns FROM send {where} ORDER BY name"))


def deleted(index: FileIndex) -> Iterator[str]:
    """The earlier deliveries' files that the selection no longer names, in name order (a file the
    database still names but the store lacks is not deleted)."""
    return (name for name, in index.rows("SELECT name FROM folded WHERE name NOT IN (SELECT name FROM source) ORDER BY name"))


def missing(index: FileIndex) -> Iterator[str]:
    """Named by the database, absent from the store, in name order."""
    return (name for name, in index.rows("SELECT name FROM source WHERE size IS NULL ORDER BY name"))
