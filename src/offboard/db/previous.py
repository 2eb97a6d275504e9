"""The previous delivery's index of one table, on disk: what a delta compares the org's rows with.

A delta reads all the org's rows of a table and looks each key up in the previous delivery's
index (key -> row digest). Held in a dict, a table of ten million rows took 2 GB; held in a
scratch SQLite database in a temporary folder, memory stays flat whatever the table's size. Each
key found is taken out, so the keys left at the end are the rows gone since.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from offboard.db.catalog import TableShape
from offboard.db.delfile import check_file, read_batches
from offboard.db.digest import DIGEST_BYTES
from offboard.db.manifest import TableEntry
from offboard.scratch import ScratchDatabase

LOOKUP = 500  # keys per query


def _stored(key: str | tuple) -> bytes:
    """A key as one value: its text, or a composite key as a JSON list, as UTF-8 that keeps the lone
    surrogates a binary key's text may hold (SQLite's text would refuse them)."""
    return (key if isinstance(key, str) else json.dumps(key)).encode("utf-8", "surrogatepass")


def index_batches(folder: Path, shape: TableShape, entry: TableEntry) -> Iterator[list[list[str | None]]]:
    """A delivery's index of one table, checked against its manifest entry, in batches of rows:
    [hex row digest, key column, ...], the key as DEL text."""
    check_file(folder, entry.index)
    index_chars = [2 * DIGEST_BYTES, *(shape.field_chars[i] for i in shape.key_positions)]
    return read_batches(folder / entry.index.file, index_chars, entry.index.empty_strings > 0)


class PreviousIndex(ScratchDatabase):
    """Use as a context manager; `changed` for each batch of rows in turn, then `gone`."""

    def __init__(self, folder: Path, shape: TableShape, entry: TableEntry) -> None:
        batches = index_batches(folder, shape, entry)
        super().__init__("offboard-previous-", "CREATE TABLE previous (key BLOB PRIMARY KEY, digest TEXT NOT NULL) WITHOUT ROWID;",
                         cache_mib=16)
        self.composite = len(shape.key) > 1
        self.db.execute("BEGIN")
        for batch in batches:
            self.db.executemany("INSERT INTO previous VALUES (?, ?)",
                                ((_stored(tuple(row[1:]) if self.composite else row[1]), row[0]) for row in batch))
        self.db.execute("COMMIT")

    def changed(self, keys: list, digests: list[str]) -> list[bool]:
        """Whether each row (key, digest) is new or differs from the previous delivery; the keys are taken out."""
        stored = list(map(_stored, keys))
        before: dict[bytes, str] = {}
        self.db.execute("BEGIN")
        for start in range(0, len(stored), LOOKUP):
            part = stored[start:start + LOOKUP]
            marks = ",".join("?" * len(part))
            before.update(self.db.execute(f"SELECT key, digest FROM previous WHERE key IN ({marks})", part))
            self.db.execute(f"DELETE FROM previous WHERE key IN ({marks})", part)
        self.db.execute("COMMIT")
        return [before.get(key) != digest for key, digest in zip(stored, digests)]

    def gone(self) -> Iterator[str | tuple]:
        """The keys of the previous delivery not seen again (a composite key as a tuple), in key order."""
        cursor = self.db.execute("SELECT key FROM previous ORDER BY key")
        while batch := cursor.fetchmany(10_000):
            texts = (key.decode("utf-8", "surrogatepass") for key, in batch)
            yield from (tuple(json.loads(text)) for text in texts) if self.composite else texts
