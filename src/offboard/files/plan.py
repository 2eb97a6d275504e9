"""Cutting the files to send into archives: deterministic (name order), bounded in bytes and files."""

from __future__ import annotations

from dataclasses import dataclass

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

    @property
    def data_bytes(self) -> int:
        return sum(source.size for source in self.files)


def plan_archives(files: list[SourceFile], settings: TransferSettings, first_number: int = 1) -> list[ArchivePlan]:
    """Archives in name order; a file larger than the bound gets an archive of its own."""
    plans: list[ArchivePlan] = []
    current: list[SourceFile] = []
    size = END_OF_ARCHIVE

    def close() -> None:
        plans.append(ArchivePlan(archive_name(first_number + len(plans)), tuple(current), size))

    for source in sorted(files, key=lambda f: f.name):
        grown = size + member_size(source)
        if current and (grown > settings.archive_bytes or len(current) == settings.archive_files):
            close()
            current, grown = [], END_OF_ARCHIVE + member_size(source)
        current.append(source)
        size = grown
    if current:
        close()
    return plans
