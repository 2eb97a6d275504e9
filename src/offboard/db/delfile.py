"""DB2 `DEL` files, gzip'd and chunked: what the export writes and the import reads.

The conventions of DB2's EXPORT/IMPORT ... OF DEL: comma between fields, one record per line,
strings (and timestamps) in double quotes with inner quotes doubled, numbers bare, NULL as an
empty field, so "" is an empty string and nothing at all is NULL. A DBA can load a chunk with
`IMPORT FROM chunk.del OF DEL LOBS FROM . MODIFIED BY DELPRIORITYCHAR LOBSINFILE ...` (text and
bytes may hold line breaks). Binary values stand as their own bytes, as DB2 writes them; the text
is UTF-8 with `surrogateescape` for them (offboard.db.values). Large objects lie in a LOB file
beside the chunk (offboard.db.lobs).

Both directions stay in C loops (csv, map, zlib) with Python working per batch, not per row
(reading, per block of lines: what keeps records and batches within the catalog's sizes).
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
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from itertools import chain, islice, repeat
from pathlib import Path

from offboard.db.lobs import LobInfo, LobWriter, lob_file_name
from offboard.db.types import ColumnType
from offboard.db.values import NULL_MARK, SEPARATOR, field_text, joined_texts
from offboard.errors import OffboardError
from offboard.files.hashing import sha256_file

SUFFIX = ".del.gz"
COMPRESS_LEVEL = 1  # DEL text: twice as fast as level 3 for 3% more bytes, and bytes are cheap
_BUFFER = 1 << 20
# A batch read ends at the first record boundary after this many characters, so that 10,000
# records of 1 MiB CLOBs are not held at once.
BATCH_CHARS = 8 << 20
_BLOCK_CHARS = 1 << 18  # read at once, in whole lines
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


_BARE = frozenset({int, float})  # csv's QUOTE_NONNUMERIC writes these as str() gives them
_QUOTED = frozenset({str, datetime, date, time})  # and these as str() gives them, quoted


def del_lines(rows: Sequence[Sequence]) -> str | None:
    """The rows as DEL lines, the very text the csv module writes, formatted a column at a time
    (offboard.db.values.joined_texts); None when a value needs csv itself: another type, or a text
    holding a mark of joined_texts."""
    if not rows or len(rows[0]) < 2:  # csv writes a lone NULL as "", not as a blank line
        return None
    columns = []
    for column in zip(*rows):
        types = set(map(type, column)) - {type(None)}
        if types <= _BARE:
            text = SEPARATOR.join(map(str, column))  # None as "None", which no number's text holds
            columns.append((text.replace("None", "") if None in column else text).split(SEPARATOR))
            continue
        text = joined_texts(column, as_text=not types <= {str}) if types <= _QUOTED else None
        if text is None:
            return None
        quoted = '"' + text.replace('"', '""').replace(SEPARATOR, f'"{SEPARATOR}"') + '"'
        columns.append((quoted.replace(f'"{NULL_MARK}"', "") if None in column else quoted).split(SEPARATOR))
    return "\n".join(map(",".join, zip(*columns))) + "\n"


@dataclass(frozen=True)
class FileInfo:
    """One written file: its path relative to the delivery folder, rows, size and sha256.

    `empty_strings` counts the rows holding an empty string: only files with some need the
    slower reading that tells "" from NULL. `lobs`: the chunk's LOB file, if it has values.
    """

    file: str
    rows: int
    bytes: int
    sha256: str
    empty_strings: int = 0
    lobs: LobInfo | None = None


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
    """One gzip'd DEL file, written as `<name>.part` and renamed when complete. Rows hold the
    driver's values of columns of `types` (by default text and numbers only)."""

    def __init__(self, folder: Path, name: str, types: Sequence[ColumnType] = ()) -> None:
        self.folder = folder
        self.name = name
        self.rows = 0
        self.empty_strings = 0
        self._part = folder / f"{name}.part"
        self._part.parent.mkdir(parents=True, exist_ok=True)
        self._texts = [(i, convert) for i, t in enumerate(types) if not t.is_lob and (convert := field_text(t))]
        self._lob_positions = [i for i, t in enumerate(types) if t.is_lob]
        self._lobs = LobWriter(folder / lob_file_name(name, SUFFIX)) if self._lob_positions else None
        self._raw = open(self._part, "wb")
        self._sink = _HashingSink(self._raw)
        # mtime=0 and no file name in the header: the same rows always give the same bytes.
        self._compressed = gzip.GzipFile(filename="", mode="wb", fileobj=self._sink, compresslevel=COMPRESS_LEVEL, mtime=0)
        # For the rows del_lines leaves to csv: written into memory, gzip gets the batch in one
        # piece (a file object under csv would cost Python calls per row).
        self._text = io.StringIO()
        self._csv = csv.writer(self._text, dialect=DEL)
        self._pending: Future | None = None

    def write(self, rows: Sequence[Sequence]) -> None:
        if self._texts or self._lobs:
            rows = list(map(self._encoded, rows))
        data = (del_lines(rows) or self._csv_lines(rows)).encode("utf-8", "surrogateescape")
        self._finish_pending()
        self._pending = _COMPRESSOR.submit(self._compressed.write, data)
        self.rows += len(rows)
        self.empty_strings += sum(map(operator.contains, rows, repeat("")))

    def _csv_lines(self, rows: Sequence[Sequence]) -> str:
        self._csv.writerows(_nulls_marked(rows))
        text = self._text.getvalue()
        self._text.seek(0)
        self._text.truncate()
        return text

    def _encoded(self, row: Sequence) -> list:
        """The row's values as their DEL fields: bytes as text, LOBs as their location in the LOB file."""
        row = list(row)
        for i, convert in self._texts:
            if row[i] is not None:
                row[i] = convert(row[i])
        for i in self._lob_positions:
            if row[i] is not None:
                row[i] = self._lobs.specifier(row[i] if isinstance(row[i], bytes) else row[i].encode())
        return row

    @property
    def lob_bytes(self) -> int:
        return self._lobs.size if self._lobs else 0

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
        lobs = self._lobs.close(self.folder) if self._lobs else None
        return FileInfo(self.name, self.rows, self._sink.size, self._sink.sha256.hexdigest(), self.empty_strings, lobs)

    def discard(self) -> None:
        if self._pending is not None:
            self._pending.exception()  # wait for it; its error, if any, is not the one to report
        self._compressed.close()
        self._raw.close()
        self._part.unlink(missing_ok=True)
        if self._lobs:
            self._lobs.discard()


class ChunkWriter:
    """Rows into `<stem>.00001.del.gz`, `<stem>.00002.del.gz`, ...: a new chunk after
    `max_rows` rows or once a chunk reaches about `max_bytes` compressed bytes (or LOB bytes)."""

    def __init__(self, folder: Path, stem: str, max_rows: int, max_bytes: int, types: Sequence[ColumnType] = ()) -> None:
        self.folder = folder
        self.stem = stem
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self.types = types
        self.chunks: list[FileInfo] = []
        self._current: DelWriter | None = None

    def write(self, rows: Sequence[Sequence]) -> None:
        while rows:
            if self._current is None:
                self._current = DelWriter(self.folder, f"{self.stem}.{len(self.chunks) + 1:05d}{SUFFIX}", self.types)
            room = self.max_rows - self._current.rows
            self._current.write(rows if len(rows) <= room else rows[:room])
            rows = rows[room:]
            full = max(self._current.compressed_bytes, self._current.lob_bytes) >= self.max_bytes
            if self._current.rows >= self.max_rows or full:
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
            if chunk.lobs:
                (self.folder / chunk.lobs.file).unlink(missing_ok=True)


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


def read_batches(path: Path, field_chars: Sequence[int], empty_strings: bool = True, size: int = 10_000,
                 max_chars: int = BATCH_CHARS) -> Iterator[list[list[str | None]]]:
    """The records of one gzip'd DEL file as lists of strings, one per column, NULL as None, in
    batches of `size` records or of about `max_chars` characters, whichever comes first. Numbers
    and timestamps stay text; the database converts them on insert.

    `field_chars` holds the most characters of each column's values (from the catalog, never from
    the delivery). A field longer than the longest of them, or a record longer than all of them
    together can be, is refused without being held whole: memory stays bounded whatever the file holds.

    Without `empty_strings` (the file's FileInfo counts none) every empty field is NULL and a
    batch is parsed and converted in C; with them, each record gets the second look.
    """
    width = len(field_chars)
    with gzip.open(path, "rt", encoding="utf-8", errors="surrogateescape", newline="") as handle:
        lines = _Lines(handle, _record_chars(field_chars), max_chars)
        record: list[str] = []  # the lines of the current record, for the second look

        def kept() -> Iterator[str]:
            for line in lines:
                record.append(line)
                yield line

        reader = csv.reader(kept() if empty_strings else lines, dialect=_DelReading)
        done = 0
        while True:
            batch: list = []  # filled in place, so that a refusal can count the records before it
            lines.start_batch()
            try:
                with _field_limit(max(field_chars)):
                    _fill(batch, islice(iter(reader.__next__, []), size), record if empty_strings else None)
            except (_TooLong, csv.Error, EOFError, OSError, zlib.error, UnicodeDecodeError) as error:
                raise OffboardError(f"{path.name}: record {done + len(batch) + 1} {_problem(error, field_chars)}") from None
            if len(batch) < size and not (lines.paused or lines.ended):
                batch.append([])  # the reader stopped at a blank line: a record of no fields
            if not batch:
                return
            if set(map(len, batch)) != {width}:
                bad = next(i for i, row in enumerate(batch) if len(row) != width)
                raise OffboardError(f"{path.name}: record {done + bad + 1} has {len(batch[bad])} fields, expected {width}")
            done += len(batch)
            yield batch if empty_strings else [list(map(_NULL_IF_EMPTY, row, row)) if "" in row else row for row in batch]


def _record_chars(field_chars: Sequence[int]) -> int:
    """The most characters a record can take: every character a doubled quote, two quotes and a
    comma (or the line end) per field, and one more for a CR LF."""
    return sum(2 * chars + 3 for chars in field_chars) + 1


class _TooLong(Exception):
    """A record longer than any record of its table can be."""


class _Lines:
    """The lines of a DEL text stream for csv.reader, none held whole when longer than a record
    can be, and counted, so that a batch ends after about `max_chars` characters.

    The stream is read in blocks of whole lines that csv.reader iterates in C. A batch ends
    between records: once it holds `max_chars`, the lines of the next block come one at a time,
    each after an empty string. Between records csv.reader returns that as an empty row, which
    ends the batch (the reader is read as `iter(reader.__next__, [])`); inside a quoted field that
    spans lines it adds nothing. A record still open `record_chars` characters later is too long.
    """

    def __init__(self, handle: io.TextIOBase, record_chars: int, max_chars: int) -> None:
        self._handle = handle
        self._record_chars = record_chars
        self._max_chars = max_chars
        self._batch = 0
        self._chars = 0  # read into the current batch
        self.paused = False  # the current batch ends at the next record boundary
        self._paused_at = 0  # characters into the batch when it paused
        self.ended = False

    def start_batch(self) -> None:
        self._batch += 1
        self._chars, self.paused = 0, False

    def __iter__(self) -> Iterator[str]:
        return chain.from_iterable(self._pieces())

    def _pieces(self) -> Iterator[Iterable[str]]:
        while block := self._handle.read(min(_BLOCK_CHARS, self._max_chars)):
            rest = "" if block.endswith("\n") else self._handle.readline(self._record_chars + 1)
            too_long = len(rest) > self._record_chars
            # Without the long line's start, so that the reader first takes the records before it.
            block = block[:max(block.rfind("\n"), block.rfind("\r")) + 1] if too_long else block + rest
            lines = io.StringIO(block, newline="")  # splits at CR, LF and CR LF only, as csv does
            if self._chars >= self._max_chars:
                yield from self._pausing(lines)
            self._chars += len(block) - lines.tell()
            yield lines
            if too_long:
                raise _TooLong
        self.ended = True

    def _pausing(self, lines: io.StringIO) -> Iterator[Iterable[str]]:
        """Each line after a pause, until the batch ends."""
        batch = self._batch
        if not self.paused:
            self.paused, self._paused_at = True, self._chars
        for line in lines:
            yield ("", line)
            if self._batch != batch:
                return
            self._chars += len(line)
            if self._chars - self._paused_at >= self._record_chars:  # all of it one record, begun before
                raise _TooLong


@contextmanager
def _field_limit(chars: int) -> Iterator[None]:
    """csv's limit on the characters of a field, for one batch: it is one setting for the whole
    process, which other readers of CSV files must get back."""
    previous = csv.field_size_limit(chars)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def _fill(batch: list, rows: Iterator[list[str]], record: list[str] | None) -> None:
    """Append `rows` to `batch`; with `record` (the lines read), each gets the second look."""
    if record is None:
        batch.extend(rows)
        return
    for row in rows:
        batch.append(_with_nulls(row, "".join(record)) if "" in row else row)
        record.clear()


def _problem(error: Exception, field_chars: Sequence[int]) -> str:
    if isinstance(error, _TooLong):
        return f"is longer than the columns of its table allow ({_record_chars(field_chars)} characters)"
    if isinstance(error, csv.Error) and str(error).startswith("field larger than field limit"):
        return f"has a field longer than the columns of its table allow ({max(field_chars)} characters)"
    return f"is unreadable: {error}"


def check_file(folder: Path, info: FileInfo) -> None:
    """Refuse a file that is missing, truncated, altered (sha256) or not a complete gzip stream,
    or whose LOB file is any of these or not the one beside it."""
    _check_size(folder, info.file, info.bytes)
    digest, inflater, problem = hashlib.sha256(), zlib.decompressobj(wbits=31), None
    with open(folder / info.file, "rb") as handle:
        while block := handle.read(_BUFFER):
            digest.update(block)
            if problem is None:
                try:
                    inflater.decompress(block, _BUFFER)
                    while inflater.unconsumed_tail:
                        inflater.decompress(inflater.unconsumed_tail, _BUFFER)
                except zlib.error as error:
                    problem = f"corrupt gzip ({error})"
    _check_digest(info.file, digest.hexdigest(), info.sha256)
    if problem is None and not inflater.eof:
        problem = "truncated gzip stream"
    if problem:
        raise OffboardError(f"{info.file}: {problem}")
    if info.lobs:
        if info.lobs.file != lob_file_name(info.file, SUFFIX):
            raise OffboardError(f"{info.file}: its LOB file must be {lob_file_name(info.file, SUFFIX)}, not {info.lobs.file}")
        _check_size(folder, info.lobs.file, info.lobs.bytes)
        _check_digest(info.lobs.file, sha256_file(folder / info.lobs.file), info.lobs.sha256)


def _check_size(folder: Path, file: str, recorded: int) -> None:
    path = folder / file
    if not path.is_file():
        raise OffboardError(f"{file} is missing from {folder}")
    size = path.stat().st_size
    if size != recorded:
        state = "truncated" if size < recorded else "longer than recorded"
        raise OffboardError(f"{file} is {state}: {size} bytes, the manifest says {recorded}")


def _check_digest(file: str, found: str, recorded: str) -> None:
    if found != recorded:
        raise OffboardError(f"{file}: sha256 {found[:12]}… differs from the manifest's {recorded[:12]}…")
