"""Verify: the target's files against the cumulative manifests: missing, extra, different.

The report is `ok` only when the target holds exactly the org's files. A target store is
usually shared by every org of the MSP's Connections, so `owned` (the files the org's own
rows in the target point at) and the deliveries' deletions scope what counts as extra;
without `owned` the whole store is the org's. A file the fix-up rewrote (a wiki page holding
links, `rewritten`: from its report) from the version last delivered is expected at the size and
sha256 the fix-up gave it, and is always hashed; every other file as delivered. `report_table` is the short view for a
terminal, `VerifyReport.to_json` the machine-readable one.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from typing import Iterator, Mapping, Sequence

from rich.table import Table
from rich.text import Text

from offboard.files.hashing import sha256_file
from offboard.files.manifest import FileEntry, Manifest, cumulative
from offboard.files.owners import RESERVED
from offboard.files.progress import Progress, Silent
from offboard.files.selection import Selection, StoreFolders, StoreRoots, file_name
from offboard.fixup.report import RewrittenFile

WHOLE_STORE = "whole store"  # every file under the target's roots is the org's
ORG_ROWS = "files the org's rows point at or its deliveries deleted"  # the stores are shared with other orgs


@dataclass(frozen=True)
class VerifyReport:
    deliveries: list[str]
    expected: int
    checksum: bool
    scope: str = WHOLE_STORE  # what may count as extra
    rewritten: int = 0  # files expected as the fix-up rewrote them
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    different: dict[str, list[str]] = field(default_factory=dict)  # name -> what differs

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.different)

    def to_json(self) -> dict:
        return {
            "ok": self.ok, "deliveries": self.deliveries, "expected": self.expected, "checksum": self.checksum,
            "scope": self.scope, "rewritten": self.rewritten, "missing": self.missing, "extra": self.extra, "different": self.different,
        }


def walk(store: str, root: str) -> Iterator[tuple[str, os.stat_result]]:
    """Every entry below a store's root that is not a folder (links are not followed), but for
    what this tool keeps at the top of a store (the owner record, staging folders)."""
    folders = [(root, store)]
    while folders:
        folder, prefix = folders.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                name = f"{prefix}/{entry.name}"
                if folder == root and entry.name.startswith(RESERVED):
                    continue
                if entry.is_dir(follow_symlinks=False):
                    folders.append((entry.path, name))
                else:
                    yield name, entry.stat(follow_symlinks=False)


def lstat(path: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


def differences(path: str, info: os.stat_result, entry: FileEntry | RewrittenFile, checksum: bool) -> list[str]:
    """What differs from the entry; a file the fix-up rewrote has the fix-up's mtime, so its sha256 is always compared."""
    if not stat.S_ISREG(info.st_mode):
        return ["not a regular file"]
    rewritten = isinstance(entry, RewrittenFile)
    found = [what for what, equal in (("size", info.st_size == entry.size),
                                      ("mtime", rewritten or info.st_mtime_ns == entry.mtime_ns)) if not equal]
    if (checksum or rewritten) and "size" not in found and sha256_file(path) != entry.sha256:
        found.append("sha256")
    return found


def verify_files(roots: StoreRoots, manifests: Sequence[Manifest], *, owned: Selection | None = None,
                 rewritten: Mapping[str, RewrittenFile] | None = None, checksum: bool = True,
                 progress: Progress | None = None) -> VerifyReport:
    """Compare the target roots with the org's files after `manifests` (committed, in order); a file
    of `rewritten` (`<store>/<path>` -> what the fix-up made of it) with what the fix-up made of it,
    while it was made of the file last delivered."""
    expected: dict[str, FileEntry | RewrittenFile] = cumulative(manifests)
    fixed = {name: file for name, file in (rewritten or {}).items() if name in expected and file.delivered == expected[name].sha256}
    expected.update(fixed)
    folders = StoreFolders(roots)
    paths = {name: folders.path(name) for name in expected}
    if owned is None:
        present = {name: info for store, root in sorted(folders.roots.items()) for name, info in walk(store, root)}
    else:  # only the org's names (now, or deleted by a delta) are looked at: other orgs' files are neither read nor reported
        deleted = (name for manifest in manifests for name in manifest.deleted)
        names = set(expected).union(deleted, (file_name(store, relative) for store, relative in owned))
        present = {name: info for name in names if (info := lstat(paths.get(name) or folders.path(name)))}
    progress = progress or Silent()
    progress.start(sum(entry.size for entry in expected.values()) if checksum else 0, len(expected))
    report = VerifyReport([m.delivery for m in manifests], len(expected), checksum, WHOLE_STORE if owned is None else ORG_ROWS,
                          len(fixed))
    for name, entry in sorted(expected.items()):
        info = present.get(name)
        if info is None:
            report.missing.append(name)
        elif found := differences(paths[name], info, entry, checksum):
            report.different[name] = found
        progress.advance(bytes=entry.size if checksum else 0, files=1)
    report.extra.extend(sorted(set(present) - set(expected)))
    return report


def report_table(report: VerifyReport, examples: int = 3) -> Table:
    verdict = "[green]ok[/green]" if report.ok else "[red]not equal[/red]"
    table = Table(title=f"Files after {', '.join(report.deliveries) or 'no delivery'}: {verdict}",
                  caption=f"extra: among {report.scope}")
    table.add_column("check")
    table.add_column("files", justify="right")
    table.add_column("examples", overflow="fold")
    different = [f"{name} ({', '.join(what)})" for name, what in report.different.items()]
    table.add_row("expected", str(report.expected), "")
    if report.rewritten:
        table.add_row("of them as the fix-up rewrote them", str(report.rewritten), "")
    for label, names in (("missing", report.missing), ("extra", report.extra), ("different", different)):
        shown = "\n".join(names[:examples]) + ("\n…" if len(names) > examples else "")
        table.add_row(label, str(len(names)), Text(shown))  # Text: a file name is never markup
    return table
