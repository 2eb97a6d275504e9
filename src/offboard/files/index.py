"""Per-file metadata on disk: the manifests a command reads, and what it works out from them.

A delivery may carry millions of files; holding one Python object per file would take
gigabytes. So a command reads each manifest into an SQLite database in a temporary folder (set
TMPDIR to put it elsewhere), and works on it with queries and batches: memory stays flat
whatever the number of files, and the disk holds about 150 bytes a file. The index is scratch
(`offboard.scratch`): it is removed when the command ends, and a command run again builds it again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from offboard.delivery import delivery_number
from offboard.errors import OffboardError
from offboard.files.manifest import UNUSABLE, ArchiveEntry, Counts, FileEntry, Header, read_manifest
from offboard.scratch import ScratchDatabase

BATCH = 10_000  # rows per fetch and per insert

SCHEMA = """
CREATE TABLE delivery (number INTEGER PRIMARY KEY, name TEXT NOT NULL, org TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE archive (number INTEGER, name TEXT, size INTEGER, sha256 TEXT, files INTEGER,
                      PRIMARY KEY (number, name)) WITHOUT ROWID;
CREATE TABLE file (number INTEGER, name TEXT, size INTEGER, mtime_ns INTEGER, sha256 TEXT, archive TEXT,
                   PRIMARY KEY (number, name)) WITHOUT ROWID;
CREATE INDEX file_by_archive ON file (number, archive);
CREATE TABLE deleted (number INTEGER, name TEXT, PRIMARY KEY (number, name)) WITHOUT ROWID;
CREATE TABLE missing (number INTEGER, name TEXT, PRIMARY KEY (number, name)) WITHOUT ROWID;
CREATE TABLE folded (name TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, sha256 TEXT, archive TEXT) WITHOUT ROWID;
"""


class FileIndex(ScratchDatabase):
    """One command's index of files; use it as a context manager."""

    def __init__(self) -> None:
        super().__init__("offboard-index-", SCHEMA)

    def rows(self, query: str, parameters: tuple = ()) -> Iterator[tuple]:
        """A query's rows, fetched in batches."""
        cursor = self.db.execute(query, parameters)
        while batch := cursor.fetchmany(BATCH):
            yield from batch

    def insert(self, statement: str, rows: Iterable[tuple]) -> None:
        """Many rows in batches, each batch one transaction."""
        rows = iter(rows)
        while batch := [row for _, row in zip(range(BATCH), rows)]:
            self.db.execute("BEGIN")
            self.db.executemany(statement, batch)
            self.db.execute("COMMIT")

    def load(self, stream: BinaryIO, where: str, org_id: str, delivery: str, limit: int | None = None) -> Manifest:
        """Read and check a manifest of the org's delivery into the index (refused in one line otherwise)."""

        def expected(header: Header) -> None:
            if (header.org_id, header.delivery) != (org_id, delivery):
                raise OffboardError(f"{where} is delivery {header.delivery} of org {header.org_id}, not {delivery} of org {org_id}")

        number = delivery_number(delivery)
        loading = _Loading(self, number)
        self.db.execute("BEGIN")
        header, counts = read_manifest(stream, where, loading, expected, limit)
        loading.flush()
        self.db.execute("INSERT INTO delivery VALUES (?, ?, ?, ?)", (number, delivery, org_id, header.created))
        self.db.execute("COMMIT")
        both = self.db.execute("SELECT name FROM deleted JOIN file USING (number, name) WHERE number = ? LIMIT 1", (number,)).fetchone()
        if both:
            raise OffboardError(f"{where}: {both[0]} is both carried and deleted; {UNUSABLE}")
        return Manifest(self, number, header, counts)

    def fold(self, manifests: Iterable[Manifest]) -> None:
        """The org's files after these deliveries (given in order) into `folded`: later entries and deletions win."""
        self.db.execute("BEGIN")
        self.db.execute("DELETE FROM folded")
        for manifest in manifests:
            self.db.execute("DELETE FROM folded WHERE name IN (SELECT name FROM deleted WHERE number = ?)", (manifest.number,))
            self.db.execute("INSERT OR REPLACE INTO folded SELECT name, size, mtime_ns, sha256, archive FROM file "
                            "WHERE number = ?", (manifest.number,))
        self.db.execute("COMMIT")

    def folded_counts(self) -> tuple[int, int]:
        """(files, bytes) of the folded deliveries."""
        return self.db.execute("SELECT count(*), coalesce(sum(size), 0) FROM folded").fetchone()


class _Loading:
    """A manifest's checked lines into the index, in batches."""

    def __init__(self, index: FileIndex, number: int) -> None:
        self.index, self.number = index, number
        self.files: list[tuple] = []
        self.names: dict[str, list[tuple]] = {"deleted": [], "missing": []}

    def archive(self, name: str, entry: ArchiveEntry) -> None:
        self.index.db.execute("INSERT INTO archive VALUES (?, ?, ?, ?, ?)", (self.number, name, entry.size, entry.sha256, entry.files))

    def file(self, name: str, entry: FileEntry) -> None:
        self.files.append((self.number, name, entry.size, entry.mtime_ns, entry.sha256, entry.archive))
        if len(self.files) == BATCH:
            self.flush()

    def name(self, kind: str, name: str) -> None:
        self.names[kind].append((self.number, name))
        if len(self.names[kind]) == BATCH:
            self.flush()

    def flush(self) -> None:
        self.index.db.executemany("INSERT INTO file VALUES (?, ?, ?, ?, ?, ?)", self.files)
        for kind, rows in self.names.items():
            self.index.db.executemany(f"INSERT INTO {kind} VALUES (?, ?)", rows)
            rows.clear()
        self.files.clear()


@dataclass(frozen=True)
class Manifest:
    """One delivery's manifest, as read into an index: its counts at hand, its files by query."""

    index: FileIndex
    number: int
    header: Header
    counts: Counts

    @property
    def org_id(self) -> str:
        return self.header.org_id

    @property
    def delivery(self) -> str:
        return self.header.delivery

    def archives(self) -> dict[str, ArchiveEntry]:
        """Every archive (a delivery has few: each holds thousands of files or hundreds of MB)."""
        rows = self.index.db.execute("SELECT name, size, sha256, files FROM archive WHERE number = ? ORDER BY name", (self.number,))
        return {name: ArchiveEntry(*entry) for name, *entry in rows}

    def files(self) -> Iterator[tuple[str, FileEntry]]:
        """Every file carried, in name order."""
        rows = self.index.rows("SELECT name, size, mtime_ns, sha256, archive FROM file WHERE number = ? ORDER BY name", (self.number,))
        return ((name, FileEntry(*entry)) for name, *entry in rows)

    def members(self, archive: str) -> dict[str, FileEntry]:
        """The files one archive carries."""
        rows = self.index.db.execute("SELECT name, size, mtime_ns, sha256, archive FROM file WHERE number = ? AND archive = ?",
                                     (self.number, archive))
        return {name: FileEntry(*entry) for name, *entry in rows}

    def entry(self, name: str) -> FileEntry | None:
        row = self.index.db.execute("SELECT size, mtime_ns, sha256, archive FROM file WHERE number = ? AND name = ?",
                                    (self.number, name)).fetchone()
        return FileEntry(*row) if row else None

    def deleted(self) -> Iterator[str]:
        return (name for name, in self.index.rows("SELECT name FROM deleted WHERE number = ? ORDER BY name", (self.number,)))

    def missing(self) -> Iterator[str]:
        return (name for name, in self.index.rows("SELECT name FROM missing WHERE number = ? ORDER BY name", (self.number,)))
