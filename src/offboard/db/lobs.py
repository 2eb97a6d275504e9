"""Large objects in a LOB file beside their chunk, as DB2's `EXPORT ... LOBSINFILE` keeps them.

A CLOB or BLOB value is not written into the DEL record: its bytes go to the chunk's LOB file
(`<table>.<n>.lob`, beside `<table>.<n>.del.gz`) and the record holds a LOB location specifier,
`<lob file>.<offset>.<length>/`, which DB2's `IMPORT ... LOBS FROM <folder> MODIFIED BY
LOBSINFILE` reads as well. So no record is longer than its small columns allow, and a 10 MB photo
is never a field for the CSV reader.

The LOB file is not compressed: photos and audio do not compress, and DB2 reads it as it is.
Reading trusts nothing of the delivery: a specifier must name the chunk's own LOB file, and its
values must lie one after the other from offset 0 (the writer's order), so the file is read once,
front to back, and no value can overlap another or reach outside the file.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from offboard.errors import OffboardError

SUFFIX = ".lob"
_SPECIFIER = re.compile(r"^(?P<file>[^/\\]+)\.(?P<offset>0|[1-9][0-9]{0,18})\.(?P<length>0|[1-9][0-9]{0,18})/$")


@dataclass(frozen=True)
class LobInfo:
    """One written LOB file: its path relative to the delivery folder, size and sha256."""

    file: str
    bytes: int
    sha256: str


def lob_file_name(chunk_name: str, chunk_suffix: str) -> str:
    """`EMPLOYEE.00001.lob` for `EMPLOYEE.00001.del.gz`."""
    return chunk_name.removesuffix(chunk_suffix) + SUFFIX


def specifier_length(text: str) -> int | None:
    """The length a LOB location specifier states, or None when `text` is not one."""
    match = _SPECIFIER.match(text)
    return int(match["length"]) if match else None


class LobWriter:
    """Appends values to a LOB file (created on the first), hashing as it goes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = 0
        self._part = path.with_name(path.name + ".part")
        self._handle: BinaryIO | None = None
        self._sha256 = hashlib.sha256()

    def specifier(self, value: bytes) -> str:
        if self._handle is None:
            self._handle = open(self._part, "wb")
        self._handle.write(value)
        self._sha256.update(value)
        text = f"{self.path.name}.{self.size}.{len(value)}/"
        self.size += len(value)
        return text

    def close(self, folder: Path) -> LobInfo | None:
        """The file's record (relative to `folder`), or None when no value was written."""
        if self._handle is None:
            return None
        self._handle.close()
        self._part.replace(self.path)
        return LobInfo(self.path.relative_to(folder).as_posix(), self.size, self._sha256.hexdigest())

    def discard(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._part.unlink(missing_ok=True)


class LobReader:
    """Reads the values a chunk's records point at, in the order the writer wrote them."""

    def __init__(self, folder: Path, info: LobInfo | None, chunk: str) -> None:
        self._name = Path(info.file).name if info else None
        self._chunk = chunk
        self._handle = open(folder / info.file, "rb") if info else None
        self._size = info.bytes if info else 0
        self._offset = 0

    def read(self, text: str) -> bytes:
        match = _SPECIFIER.match(text)
        if match is None:
            raise OffboardError(f"{self._chunk}: {text[:60]!r} is not a LOB location specifier")
        if self._name is None:
            raise OffboardError(f"{self._chunk}: its records point into a LOB file the manifest does not record")
        if match["file"] != self._name:
            raise OffboardError(f"{self._chunk}: a LOB location names {match['file'][:60]!r}, not the chunk's LOB file")
        offset, length = int(match["offset"]), int(match["length"])
        if offset != self._offset or offset + length > self._size:
            raise OffboardError(f"{self._chunk}: a LOB location ({offset}, {length} bytes) is not the next value of "
                                f"{self._name} ({self._offset} of {self._size} bytes read)")
        value = self._handle.read(length)
        if len(value) != length:
            raise OffboardError(f"{self._chunk}: {self._name} ends before its value at {offset}")
        self._offset += length
        return value

    def finish(self) -> None:
        """Refuse bytes no record points at (the file says more than its records)."""
        if self._offset != self._size:
            raise OffboardError(f"{self._chunk}: {self._name} holds {self._size - self._offset} bytes no record points at")
        self.close()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
