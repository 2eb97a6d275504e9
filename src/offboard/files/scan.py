"""The selected files as they are now at the source: size and mtime, or absent."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

from offboard.errors import OffboardError
from offboard.files.selection import SelectedFile


@dataclass(frozen=True, slots=True)
class SourceFile:
    name: str
    path: str
    size: int
    mtime_ns: int


def scan(selected: list[SelectedFile]) -> tuple[list[SourceFile], list[str]]:
    """(files found, names the selection gives but the store lacks), both in name order."""
    found, missing = [], []
    for item in selected:
        try:
            info = os.stat(item.path)
        except (FileNotFoundError, NotADirectoryError):
            missing.append(item.name)
            continue
        if not stat.S_ISREG(info.st_mode):
            raise OffboardError(f"{item.name} at {item.path} is not a regular file")
        found.append(SourceFile(item.name, item.path, info.st_size, info.st_mtime_ns))
    return found, missing
