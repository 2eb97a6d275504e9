"""Values between the database driver and the DEL text, per column type (offboard.db.types).

Bytes (FOR BIT DATA, BLOB) are bytes from source to target, never text: in a DEL record a short
binary value stands as its own bytes between quotes, as DB2's export writes it, and the record
text is UTF-8 with `surrogateescape`, so every byte that is not part of valid UTF-8 comes back as
itself. A text column's value must be valid UTF-8 (offboard.db.fit refuses one that is not).
Large objects stand in their chunk's LOB file (offboard.db.lobs). DECIMAL values are written in
fixed point, whatever the driver returns (SQLite gives floats).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path

from offboard.db.lobs import LobInfo, LobReader
from offboard.db.types import ColumnType
from offboard.errors import OffboardError

LOB_BATCH_BYTES = 64 << 20  # LOB bytes held at once, reading or writing; one larger value is held alone


# While the values of a column are transformed as one string: what separates them, and NULL.
SEPARATOR, NULL_MARK = "\x1f", "\x1e"
_MARK_NULLS = {None: NULL_MARK}.get  # called as (value, value)


def joined_texts(column: Sequence, as_text: bool = False) -> str | None:
    """A column's texts (`as_text`: values made text by str) joined by SEPARATOR, NULL as NULL_MARK,
    for string methods to transform them all in a few C calls before a split: what keeps a batch's
    formatting out of Python frames per value. None when a text holds either mark."""
    marked = map(_MARK_NULLS, column, column)
    text = SEPARATOR.join(map(str, marked) if as_text else marked)
    if text.count(SEPARATOR) != len(column) - 1 or text.count(NULL_MARK) != column.count(None):
        return None
    return text


def binary_text(value: bytes) -> str:
    return bytes(value).decode("utf-8", "surrogateescape")


def text_bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def driver_value(column_type: ColumnType, value: str | int) -> bytes | str | int:
    """A key value as JSON records keep it (a manifest's deleted keys, the merge record: integers
    as numbers, bytes in hex) as the driver takes it; TypeError or ValueError if it cannot be one."""
    if column_type.is_integer:
        if not isinstance(value, int):
            raise TypeError
        return value
    if not isinstance(value, str):
        raise TypeError
    return bytes.fromhex(value) if column_type.is_binary else value


def shown_value(value: object) -> str:
    """A key value as messages and records show it: hex for bytes, else its text."""
    return value.hex() if isinstance(value, bytes) else str(value)


def _decimal_text(value: object) -> str:
    return format(value if isinstance(value, Decimal) else Decimal(str(value)), "f")


def field_text(column_type: ColumnType) -> Callable[[object], object] | None:
    """How a non-LOB driver value of the type becomes its DEL field (None: as it is; None values
    are never passed)."""
    if column_type.kind in ("BINARY", "VARBINARY"):
        return binary_text
    if column_type.kind == "DECIMAL":
        return _decimal_text
    return None


def key_text(column_type: ColumnType) -> Callable[[object], str]:
    """How a key value the driver returns becomes the text a DEL reader gets back."""
    return field_text(column_type) or str


def fetch_rows(types: Sequence[ColumnType], default: int) -> int:
    """Rows to fetch at a time so that a batch of LOBs at their declared sizes stays within
    LOB_BATCH_BYTES (at least one row)."""
    lob_bytes = sum(t.length for t in types if t.is_lob)
    return max(1, min(default, LOB_BATCH_BYTES // lob_bytes)) if lob_bytes else default


class Decoder:
    """Rows of DEL text into driver values: bytes for binary columns, LOBs read from the chunk's
    LOB file (CLOBs as UTF-8 text), the rest as text the database converts."""

    def __init__(self, types: Sequence[ColumnType], folder: Path, lobs: LobInfo | None, chunk: str) -> None:
        self._binary = [i for i, t in enumerate(types) if t.kind in ("BINARY", "VARBINARY")]
        self._lobs = [(i, t.kind == "CLOB") for i, t in enumerate(types) if t.is_lob]
        self._reader = LobReader(folder, lobs, chunk) if self._lobs else None
        self._chunk = chunk

    def batches(self, rows: list[list]) -> Iterator[list[list]]:
        """`rows` decoded, in batches holding at most LOB_BATCH_BYTES of LOBs (or one row). The
        decoded values live in the batches only: `rows` keeps its text, so that a batch's LOBs go
        once it is written, whatever the number of records."""
        if not self._binary and not self._lobs:
            yield rows
            return
        batch, held = [], 0
        for row in rows:
            row = list(row)
            for i in self._binary:
                if row[i] is not None:
                    row[i] = text_bytes(row[i])
            for i, is_clob in self._lobs:
                if row[i] is not None:
                    row[i] = self._lob(row[i], is_clob)
                    held += len(row[i])
            batch.append(row)
            if held >= LOB_BATCH_BYTES:
                yield batch
                batch, held = [], 0
        if batch:
            yield batch

    def _lob(self, text: str, is_clob: bool) -> bytes | str:
        value = self._reader.read(text)
        if not is_clob:
            return value
        try:
            decoded = value.decode("utf-8")
        except UnicodeDecodeError:
            raise OffboardError(f"{self._chunk}: a CLOB value is not UTF-8") from None
        if "\0" in decoded:
            raise OffboardError(f"{self._chunk}: a CLOB value holds a NUL character, which PostgreSQL cannot store in text")
        return decoded

    def finish(self) -> None:
        if self._reader is not None:
            self._reader.finish()

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
