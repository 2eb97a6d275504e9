"""Cutting the files to send into archives: deterministic (name order), bounded in bytes and files,
planned one archive ahead of the sending (files come from the index as a stream)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator

from offboard.files.layout import archive_name
from offboard.files.scan import SourceFile
from offboard.files.settings import TransferSettings

BLOCK = 512
USTAR_NAME = 100
END_OF_ARCHIVE = 2 * BLOCK + 20 * BLOCK  # at most: two zero blocks, then padding to a 10 KiB record


def blocks(size: int) -> int:
    return -(-size // BLOCK) * BLOCK


def member_size(source: SourceFile) -> int:
    """A member's bytes in a PAX tar: header, a PAX header for long or non-ASCII names, data."""
    name = source.name.encode()
    pax = BLOCK + blocks(len(name) + 64) if len(name) > USTAR_NAME or not source.name.isascii() else 0
    return BLOCK + pax + blocks(source.size)


@dataclass(frozen=True)
class ArchivePlan:
    name: str
    files: tuple[SourceFile, ...]
    size: int  # expected tar size


def plan_archives(files: Iterable[SourceFile], settings: TransferSettings, first_number: int = 1) -> Iterator[ArchivePlan]:
    """Archives of `files` (in name order) as they fill up; a file larger than the bound gets an archive of its own."""
    number, current, size = first_number, [], END_OF_ARCHIVE
    for source in files:
        grown = size + member_size(source)
        if current and (grown > settings.archive_bytes or len(current) == settings.archive_files):
            yield ArchivePlan(archive_name(number), tuple(current), size)
            number, current, grown = number + 1, [], END_OF_ARCHIVE + member_size(source)
        current.append(source)
        size = grown
    if current:
        yield ArchivePlan(archive_name(number), tuple(current), size)
