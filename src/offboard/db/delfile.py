"""DB2 `DEL` files, gzip'd and chunked: what the export writes and the import reads.

The conventions of DB2's EXPORT/IMPORT ... OF DEL: comma between fields, one record per line,
strings (and timestamps) in double quotes with inner quotes doubled, numbers bare, NULL as an
empty field, so "" is an empty string and nothing at all is NULL. A DBA can load a chunk with
`IMPORT FROM chunk.del OF DEL MODIFIED BY DELPRIORITYCHAR ...` (CLOBs may hold line breaks).

Both directions stay in C loops (csv, map, zlib) with Python working per batch, not per row.
Python 3.11's csv cannot tell "" from NULL; files with empty strings (the writer counts them)
get a second look per record, with a regular expression, to tell them apart.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import operator
import re
import zlib
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice, repeat
from pathlib import Path

from offboard.errors import OffboardError

SUFFIX = ".del.gz"
COMPRESS_LEVEL = 1  # DEL text: twice as fast as level 3 for 3% more bytes, and bytes are cheap
_BUFFER = 1 << 20
# zlib releases the GIL: a batch compresses on the other core while the next one is formatted.
_COMPRESSOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="del-gzip")


class DEL(csv.Dialect):
    delimiter = ","
    quotechar = '"'
    doublequote = True
    lineterminator = "\n"
    quoting = csv.QUOTE_NONNUMERIC
    strict = True


class _Null(int):
    """Written as an empty, unquoted field: a number to csv (so no quotes) whose text is empty."""

    def __str__(self) -> str:
        return ""


_NULL_FOR_NONE = {None: _Null()}


def _nulls_marked(rows: Sequence[Sequence]) -> Iterator[Iterable]:
    """Each row with None as the NULL marker, built by C-level maps (no Python frame per row)."""
    return map(map, repeat(_NULL_FOR_NONE.get), rows, rows)


@dataclass(frozen=True)
class FileInfo:
    """One written file: its path relative to the delivery folder, rows, size and sha256.

    `empty_strings` counts the rows holding an empty string: only files with some need the
    slower reading that tells "" from NULL.
    """

    file: str
    rows: int
    bytes: int
    sha256: str
    empty_strings: int = 0


class _HashingSink:
    """The binary file under the gzip stream: hashes and counts the compressed bytes."""

    def __init__(self, raw: io.BufferedWriter) -> None:
        self.raw = raw
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        self.size += len(data)
        return self.raw.write(data)


class DelWriter:
    """One gzip'd DEL file, written as `<name>.part` and renamed when complete."""

    def __init__(self, folder: Path, name: str) -> None:
        self.folder = folder
        self.name = name
        self.rows = 0
        self.empty_strings = 0
        self._part = folder / f"{name}.part"
        self._part.parent.mkdir(parents=True, exist_ok=True)
        self._raw = open(self._part, "wb")
        self._sink = _HashingSink(self._raw)
        # mtime=0 and no file name in the header: the same rows always give the same bytes.
        self._compressed = gzip.GzipFile(filename="", mode="wb", fileobj=self._sink, compresslevel=COMPRESS_LEVEL, mtime=0)
        # csv writes a batch into memory, gzip gets it in one piece: a file object under csv
        # would cost Python calls per row.
        self._text = io.StringIO()
        self._csv = csv.writer(self._text, dialect=DEL)
        self._pending: Future | None = None

    def write(self, rows: Sequence[Sequence]) -> None:
        self._csv.writerows(_nulls_marked(rows))
        data = self._text.getvalue().encode()
        self._text.seek(0)
        self._text.truncate()
        self._finish_pending()
        self._pending = _COMPRESSOR.submit(self._compressed.write, data)
        self.rows += len(rows)
        self.empty_strings += sum(map(operator.contains, rows, repeat("")))

    def _finish_pending(self) -> None:
        if self._pending is not None:
            self._pending.result()
            self._pending = None

    @property
    def compressed_bytes(self) -> int:
        """Compressed bytes so far; it lags what was written by what zlib still holds."""
        return self._sink.size

    def close(self) -> FileInfo:
        self._finish_pending()
        self._compressed.close()
        self._raw.close()
        self._part.replace(self.folder / self.name)
        return FileInfo(self.name, self.rows, self._sink.size, self._sink.sha256.hexdigest(), self.empty_strings)

    def discard(self) -> None:
        if self._pending is not None:
            self._pending.exception()  # wait for it; its error, if any, is not the one to report
        self._compressed.close()
        self._raw.close()
        self._part.unlink(missing_ok=True)


class ChunkWriter:
    """Rows into `<stem>.00001.del.gz`, `<stem>.00002.del.gz`, ...: a new chunk after
    `max_rows` rows or once a chunk reaches about `max_bytes` compressed bytes."""

    def __init__(self, folder: Path, stem: str, max_rows: int, max_bytes: int) -> None:
        self.folder = folder
        self.stem = stem
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self.chunks: list[FileInfo] = []
        self._current: DelWriter | None = None

    def write(self, rows: Sequence[Sequence]) -> None:
        while rows:
            if self._current is None:
                self._current = DelWriter(self.folder, f"{self.stem}.{len(self.chunks) + 1:05d}{SUFFIX}")
            room = self.max_rows - self._current.rows
            self._current.write(rows if len(rows) <= room else rows[:room])
            rows = rows[room:]
            if self._current.rows >= self.max_rows or self._current.compressed_bytes >= self.max_bytes:
                self.chunks.append(self._current.close())
                self._current = None

    def close(self) -> list[FileInfo]:
        if self._current is not None:
            self.chunks.append(self._current.close())
            self._current = None
        return self.chunks

    def discard(self) -> None:
        if self._current is not None:
            self._current.discard()
        for chunk in self.chunks:
            (self.folder / chunk.file).unlink(missing_ok=True)


class _DelReading(DEL):
    quoting = csv.QUOTE_MINIMAL  # keep bare fields as text; QUOTE_NONNUMERIC would make them floats


_NULL_IF_EMPTY = {"": None}.get  # called as (value, value): None for "", else the value
_FIELDS = re.compile(r'(?:^|,)("(?:[^"]|"")*"|[^,"\r\n]*)')


def _with_nulls(row: list[str], record: str) -> list[str | None]:
    """Empty fields as None, except the quoted ones ("" is an empty string)."""
    if '""' not in record:  # no quoted empty field, and no doubled quote that could look like one
        return list(map(_NULL_IF_EMPTY, row, row))
    fields = _FIELDS.findall(record)
    return [None if value == "" and not field.startswith('"') else value for value, field in zip(row, fields)]


def read_batches(path: Path, width: int, empty_strings: bool = True, size: int = 10_000) -> Iterator[list[list[str | None]]]:
    """The records of one gzip'd DEL file, `size` at a time, as lists of `width` strings, NULL
    as None. Numbers and timestamps stay text; the database converts them on insert.

    Without `empty_strings` (the file's FileInfo counts none) every empty field is NULL and a
    batch is parsed and converted in C; with them, each record gets the second look.
    """
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        record: list[str] = []  # the lines of the current record, for the second look

        def lines() -> Iterator[str]:
            for line in handle:
                record.append(line)
                yield line

        reader = csv.reader(lines() if empty_strings else handle, dialect=_DelReading)
        done = 0
        try:
            while batch := _exact_batch(reader, record, size) if empty_strings else list(islice(reader, size)):
                if set(map(len, batch)) != {width}:
                    bad = next(i for i, row in enumerate(batch) if len(row) != width)
                    raise OffboardError(f"{path.name}: record {done + bad + 1} has {len(batch[bad])} fields, expected {width}")
                done += len(batch)
                yield batch if empty_strings else [list(map(_NULL_IF_EMPTY, row, row)) if "" in row else row for row in batch]
        except (csv.Error, EOFError, OSError, zlib.error, UnicodeDecodeError) as error:
            raise OffboardError(f"{path.name}: unreadable near line {reader.line_num}: {error}") from None


def _exact_batch(reader: Iterator[list[str]], record: list[str], size: int) -> list[list[str | None]]:
    batch = []
    for row in islice(reader, size):
        batch.append(_with_nulls(row, "".join(record)) if "" in row else row)
        record.clear()
    return batch


def check_file(folder: Path, info: FileInfo) -> None:
    """Refuse a file that is missing, truncated, altered (sha256) or not a complete gzip stream."""
    path = folder / info.file
    if not path.is_file():
        raise OffboardError(f"{info.file} is missing from {folder}")
    size = path.stat().st_size
    if size != info.bytes:
        state = "truncated" if size < info.bytes else "longer than recorded"
        raise OffboardError(f"{info.file} is {state}: {size} bytes, the manifest says {info.bytes}")
    digest, inflater, problem = hashlib.sha256(), zlib.decompressobj(wbits=31), None
    with open(path, "rb") as handle:
        while block := handle.read(_BUFFER):
            digest.update(block)
            if problem is None:
                try:
                    inflater.decompress(block, _BUFFER)
                    while inflater.unconsumed_tail:
                        inflater.decompress(inflater.unconsumed_tail, _BUFFER)
                except zlib.error as error:
                    problem = f"corrupt gzip ({error})"
    if digest.hexdigest() != info.sha256:
        raise OffboardError(f"{info.file}: sha256 {digest.hexdigest()[:12]}… differs from the manifest's {info.sha256[:12]}…")
    if problem is None and not inflater.eof:
        problem = "truncated gzip stream"
    if problem:
        raise OffboardError(f"{info.file}: {problem}")
