"""sha256 computed while data passes: each byte of a file or an archive is read once."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import BinaryIO, Callable

CHUNK = 1024 * 1024


class HashingReader:
    """A readable stream that hashes and counts what is read through it."""

    def __init__(self, raw: BinaryIO, on_bytes: Callable[[int], None] | None = None) -> None:
        self.raw = raw
        self.sha256 = hashlib.sha256()
        self.size = 0
        self.on_bytes = on_bytes

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.sha256.update(data)
        self.size += len(data)
        if self.on_bytes and data:
            self.on_bytes(len(data))
        return data

    def drain(self) -> None:
        """Read to the end (the padding after a tar's last member belongs to the archive's hash)."""
        while self.read(CHUNK):
            pass

    def hexdigest(self) -> str:
        return self.sha256.hexdigest()


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
