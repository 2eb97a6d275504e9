"""Which archive members may be extracted: regular files the manifest expects, and folders.

Two checks on every member: our own (type, canonical `<store>/<relative>` name, expected by
the manifest in this archive, once, with the expected size) and tarfile's `data` filter
against the folder the member would land in. Anything else stops the import.
"""

from __future__ import annotations

import tarfile
from typing import AbstractSet, Callable, Mapping

from offboard.errors import OffboardError
from offboard.files.manifest import FileEntry
from offboard.files.selection import split_name

KINDS = {
    tarfile.SYMTYPE: "symbolic link", tarfile.LNKTYPE: "hard link", tarfile.CHRTYPE: "character device",
    tarfile.BLKTYPE: "block device", tarfile.FIFOTYPE: "fifo", tarfile.GNUTYPE_SPARSE: "sparse file",
}
EXTRACTABLE = {tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.DIRTYPE}


class UnsafeMember(Exception):
    """A member that must not be extracted, with the reason."""


def check_member(member: tarfile.TarInfo, expected: Mapping[str, FileEntry], seen: AbstractSet[str],
                 folder_of: Callable[[str], str | None]) -> None:
    """Refuse a member that is not a plain expected file or a folder; `folder_of(store)` is where it lands."""
    name = member.name
    if member.type not in EXTRACTABLE:
        raise UnsafeMember(f"{name!r} is a {KINDS.get(member.type, 'special member')}; only files and folders are extracted")
    try:
        store, relative = split_name(name)
    except OffboardError:
        raise UnsafeMember(f"{name!r} is not a plain relative name inside a store") from None
    folder = folder_of(store)
    if folder is None:
        raise UnsafeMember(f"{name!r} lies in no store of the target")
    try:
        tarfile.data_filter(member.replace(name=relative, deep=False), str(folder))
    except tarfile.FilterError as error:
        raise UnsafeMember(f"{name!r}: {error}") from None
    if member.isdir():
        return
    if name not in expected:
        raise UnsafeMember(f"{name!r} is not a file the manifest puts in this archive")
    if name in seen:
        raise UnsafeMember(f"{name!r} appears twice")
    if member.size != expected[name].size:
        raise UnsafeMember(f"{name!r} holds {member.size} bytes, the manifest says {expected[name].size}")
