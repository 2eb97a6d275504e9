"""The manifest of a delivery's files: the contract between export, import and verify.

A stream of JSON lines, so that neither its writer nor its reader holds a delivery's files in
memory, in this order:

    {"format": 2, "orgId": ..., "delivery": ..., "created": ...}
    {"archive": "00001.tar", "size": ..., "sha256": ..., "files": ...}     each archive, in name order
    {"file": "<store>/<path>", "size": ..., "mtimeNs": ..., "sha256": ..., "archive": ...}
                                                                            each file carried, in name order
    {"deleted": "<store>/<path>"}   each file deleted since the earlier deliveries, in name order
    {"missing": "<store>/<path>"}   each file the org's rows name but the source store lacks, in name order
    {"end": {"archives": ..., "files": ..., "deleted": ..., "missing": ..., "bytes": ..., "sha256": ...}}

Names are in strictly increasing code-point order (which is the byte order of their UTF-8, and
so SQLite's): each appears once, and a reordered manifest is refused. The end line carries the
counts and the sha256 of every byte before it: a manifest cut short or altered in transit is
refused. Whoever holds the bucket's key can still write a consistent forgery; the archives'
hashes, the catalog and the target's owners decide what is written, never the manifest alone.
The reader puts what it reads into an on-disk index (`offboard.files.index`); the org's files
after delivery N are the earlier deliveries folded in order (`FileIndex.fold`).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, BinaryIO, Callable, Iterable, Protocol

from pydantic import ConfigDict, Field

from offboard.delivery import DELIVERY
from offboard.errors import OffboardError
from offboard.files.layout import ARCHIVE
from offboard.files.selection import split_name

FORMAT = 2
SHA256 = r"^[0-9a-f]{64}$"
MAX_LINE = 64 * 1024  # a name is at most a few KiB: a longer line is not a manifest's
SHOWN = 300  # characters of a refused line's problem that a message shows
# What every refusal of a manifest ends with: an export run again finds the same manifest, so it must go first.
UNUSABLE = ("it is not a manifest this delivery can use: check who wrote it (the bucket's key may have leaked), "
            "delete it and export the delivery again")
ORG_ID = re.compile(r"[0-9]{1,20}")
DIGEST = re.compile(r"[0-9a-f]{64}")
SECTIONS = ("archive", "file", "deleted", "missing")  # in the order they come, between header and end


@dataclass(frozen=True, slots=True)
class Member:
    """A file as it was read into an archive (checked as such when pydantic reads it: `offboard.files.journal`)."""

    __pydantic_config__ = ConfigDict(extra="forbid")
    size: Annotated[int, Field(ge=0)]
    mtime_ns: Annotated[int, Field(ge=0)]
    sha256: Annotated[str, Field(pattern=SHA256)]


@dataclass(frozen=True, slots=True)
class FileEntry(Member):
    archive: str


@dataclass(frozen=True, slots=True)
class ArchiveEntry:
    size: int
    sha256: str
    files: int


@dataclass(frozen=True)
class Header:
    org_id: str
    delivery: str
    created: str


@dataclass(frozen=True)
class Counts:
    archives: int = 0
    files: int = 0
    deleted: int = 0
    missing: int = 0
    bytes: int = 0  # of the files carried


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ManifestWriter:
    """Writes a manifest into a binary stream, section by section, names in order; `close()` ends it."""

    def __init__(self, out: BinaryIO, header: Header) -> None:
        self.out = out
        self.sha256 = hashlib.sha256()
        self.counts = dict.fromkeys(SECTIONS, 0)
        self.bytes = 0
        self.section = -1
        self.last = ""
        self._line({"format": FORMAT, "orgId": header.org_id, "delivery": header.delivery, "created": header.created})

    def _line(self, value: dict) -> None:
        data = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
        self.sha256.update(data)
        self.out.write(data)

    def _next(self, kind: str, name: str) -> None:
        section = SECTIONS.index(kind)
        if section < self.section or (section == self.section and name <= self.last):
            raise ValueError(f"manifest lines out of order: {kind} {name!r}")
        self.section, self.last = section, name
        self.counts[kind] += 1

    def archive(self, name: str, entry: ArchiveEntry) -> None:
        self._next("archive", name)
        self._line({"archive": name, "size": entry.size, "sha256": entry.sha256, "files": entry.files})

    def file(self, name: str, entry: FileEntry) -> None:
        self._next("file", name)
        self.bytes += entry.size
        self._line({"file": name, "size": entry.size, "mtimeNs": entry.mtime_ns, "sha256": entry.sha256, "archive": entry.archive})

    def name(self, kind: str, name: str) -> None:
        """A `deleted` or `missing` name."""
        self._next(kind, name)
        self._line({kind: name})

    def close(self) -> Counts:
        counts = Counts(self.counts["archive"], self.counts["file"], self.counts["deleted"], self.counts["missing"], self.bytes)
        end = {"archives": counts.archives, "files": counts.files, "deleted": counts.deleted, "missing": counts.missing,
               "bytes": counts.bytes, "sha256": self.sha256.hexdigest()}
        self.out.write(json.dumps({"end": end}, separators=(",", ":")).encode() + b"\n")
        return counts


def write_manifest(out: BinaryIO, header: Header, archives: Iterable[tuple[str, ArchiveEntry]],
                   files: Iterable[tuple[str, FileEntry]], deleted: Iterable[str] = (), missing: Iterable[str] = ()) -> Counts:
    """A whole manifest from its parts, each in name order."""
    writer = ManifestWriter(out, header)
    for name, archive in archives:
        writer.archive(name, archive)
    for name, entry in files:
        writer.file(name, entry)
    for name in deleted:
        writer.name("deleted", name)
    for name in missing:
        writer.name("missing", name)
    return writer.close()


class Sink(Protocol):
    """Where a reader puts what it has checked (`offboard.files.index`)."""

    def archive(self, name: str, entry: ArchiveEntry) -> None: ...
    def file(self, name: str, entry: FileEntry) -> None: ...
    def name(self, kind: str, name: str) -> None: ...


class Refused(Exception):
    """A line that is not what a manifest holds there."""


def _count(value: object) -> int:
    if type(value) is not int or value < 0:
        raise Refused(f"{value!r} is not a count")
    return value


def _digest(value: object) -> str:
    if not isinstance(value, str) or not DIGEST.fullmatch(value):
        raise Refused(f"{value!r} is not a sha256")
    return value


def _file_name(value: object) -> str:
    if not isinstance(value, str):
        raise Refused(f"{value!r} is not a file name")
    try:
        split_name(value)
    except OffboardError as error:
        raise Refused(str(error)) from None
    return value


def _fields(line: dict, keys: tuple[str, ...]) -> list:
    if set(line) != set(keys):
        raise Refused(f"expected the fields {', '.join(keys)}, found {', '.join(sorted(line))}")
    return [line[key] for key in keys]


def _header(line: dict, expected: Callable[[Header], None]) -> Header:
    version, org_id, delivery, created = _fields(line, ("format", "orgId", "delivery", "created"))
    if version != FORMAT:
        raise Refused(f"format {version!r} is not supported (expected {FORMAT})")
    if not isinstance(org_id, str) or not ORG_ID.fullmatch(org_id):
        raise Refused(f"orgId {org_id!r} is not an org id")
    if not isinstance(delivery, str) or not DELIVERY.fullmatch(delivery):
        raise Refused(f"delivery {delivery!r} is not a delivery name")
    if not isinstance(created, str) or len(created) > 64:
        raise Refused("created is not a date")
    header = Header(org_id, delivery, created)
    expected(header)
    return header


class Reader:
    """Checks a manifest line by line into a sink; `end` checks the whole."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.sha256 = hashlib.sha256()
        self.section = -1
        self.last = ""
        self.counts = dict.fromkeys(SECTIONS, 0)
        self.bytes = 0
        self.archives: dict[str, list[int]] = {}  # archive -> [files it should carry, files given to it]

    def line(self, line: dict) -> None:
        kind = next(iter(line), None)  # the first field says what the line is
        if kind not in SECTIONS:
            raise Refused("a line that is neither an archive, a file, a deleted nor a missing file")
        name = line[kind]
        section = SECTIONS.index(kind)
        if section < self.section:
            raise Refused(f"{kind} {name!r} after the {SECTIONS[self.section]} lines: the manifest is reordered")
        if section == self.section and not (isinstance(name, str) and name > self.last):
            raise Refused(f"{kind} {name!r} is not after {self.last!r}: names are not in order (reordered or repeated)")
        getattr(self, f"_{kind}")(line, name)
        self.section, self.last = section, name
        self.counts[kind] += 1

    def _archive(self, line: dict, name: object) -> None:
        _, size, sha256, files = _fields(line, ("archive", "size", "sha256", "files"))
        if not isinstance(name, str) or not ARCHIVE.fullmatch(name):
            raise Refused(f"{name!r} is not an archive name")
        entry = ArchiveEntry(_count(size), _digest(sha256), _count(files))
        self.archives[name] = [entry.files, 0]
        self.sink.archive(name, entry)

    def _file(self, line: dict, name: object) -> None:
        _, size, mtime_ns, sha256, archive = _fields(line, ("file", "size", "mtimeNs", "sha256", "archive"))
        counted = self.archives.get(archive) if isinstance(archive, str) else None
        if counted is None:
            raise Refused(f"{name!r} lies in {archive!r}, which the manifest does not list")
        counted[1] += 1
        entry = FileEntry(_count(size), _count(mtime_ns), _digest(sha256), archive)
        self.bytes += entry.size
        self.sink.file(_file_name(name), entry)

    def _deleted(self, line: dict, name: object) -> None:
        _fields(line, ("deleted",))
        self.sink.name("deleted", _file_name(name))

    def _missing(self, line: dict, name: object) -> None:
        _fields(line, ("missing",))
        self.sink.name("missing", _file_name(name))

    def end(self, line: dict) -> Counts:
        (end,) = _fields(line, ("end",))
        if not isinstance(end, dict):
            raise Refused("the end line holds no counts")
        archives, files, deleted, missing, size, sha256 = _fields(end, ("archives", "files", "deleted", "missing", "bytes", "sha256"))
        counts = Counts(self.counts["archive"], self.counts["file"], self.counts["deleted"], self.counts["missing"], self.bytes)
        if (archives, files, deleted, missing) != (counts.archives, counts.files, counts.deleted, counts.missing):
            raise Refused(f"the end line counts {archives!r} archives, {files!r} files, {deleted!r} deleted and {missing!r} "
                          f"missing, the lines {counts.archives}, {counts.files}, {counts.deleted} and {counts.missing}: "
                          "lines are missing or were added")
        if size != counts.bytes or sha256 != self.sha256.hexdigest():
            raise Refused("the end line's sha256 differs from the lines': the manifest was altered")
        for archive, (expected, given) in self.archives.items():
            if expected != given:
                raise Refused(f"archive {archive} should carry {expected} files, the manifest gives it {given}")
        return counts


def read_manifest(stream: BinaryIO, where: str, sink: Sink, expected: Callable[[Header], None],
                  limit: int | None = None) -> tuple[Header, Counts]:
    """Read a whole manifest from `stream` into `sink`, line by line; `expected(header)` refuses a
    manifest of another org or delivery before anything else is read; `limit`: bytes at most.
    Anything else than a whole, consistent manifest is refused in one line naming the line."""
    reader, header, number, read = Reader(sink), None, 0, 0
    try:
        while raw := stream.readline(MAX_LINE + 1):
            number += 1
            read += len(raw)
            if len(raw) > MAX_LINE:
                raise Refused(f"a line longer than {MAX_LINE} bytes")
            if limit is not None and read > limit:
                raise Refused(f"larger than {limit >> 20} MiB")
            if not raw.endswith(b"\n"):
                raise Refused("the last line is cut short: the manifest is truncated")
            try:
                line = json.loads(raw)
            except ValueError:
                raise Refused("not a JSON line") from None
            if not isinstance(line, dict):
                raise Refused("not a JSON object")
            if header is None:
                header = _header(line, expected)
            elif "end" in line:
                counts = reader.end(line)
                if stream.read(1):
                    raise Refused("lines after the end line")
                return header, counts
            else:
                reader.line(line)
            reader.sha256.update(raw)
        raise Refused("it has no end line: the manifest is truncated" if number else "it is empty")
    except Refused as error:
        at = f" (line {number})" if number else ""
        problem = str(error) if len(str(error)) <= SHOWN else str(error)[:SHOWN] + "…"  # a line quotes up to 64 KiB
        raise OffboardError(f"{where}{at}: {problem}; {UNUSABLE}") from None
