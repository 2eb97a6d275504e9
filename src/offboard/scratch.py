"""A scratch SQLite database in a temporary folder: per-row data a command works on without
holding it in memory (a delivery's files, a table's previous index).

Nothing in it outlives the command, so it keeps no rollback journal and syncs nothing: a command
whose writes into it fail stops there, and a transaction in it is never rolled back. Set TMPDIR
to put it on a larger disk.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile


class ScratchDatabase:
    """Use as a context manager; the folder and everything in it go when it closes."""

    def __init__(self, prefix: str, schema: str, cache_mib: int = 8) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix=prefix)
        self.db = sqlite3.connect(self.scratch("scratch.sqlite"), isolation_level=None)
        self.db.executescript(f"PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -{cache_mib * 1024};"
                              f"PRAGMA temp_store = FILE; {schema}")

    def scratch(self, name: str) -> str:
        """A path for a scratch file of the command, removed with the database."""
        return os.path.join(self._folder.name, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()
        self._folder.cleanup()
