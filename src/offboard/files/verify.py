"""Verify: the target's files against the org's files after the committed deliveries: missing, extra, different.

The report is `ok` only when the target holds exactly the org's files. A target store is
usually shared by every org of the MSP's Connections, so `owned` (the files the org's own
rows in the target point at) and the deliveries' deletions scope what counts as extra;
without `owned` the whole store is the org's. A file the fix-up rewrote (a wiki page holding
links, `rewritten`: from its report) from the version last delivered is expected at the size and
sha256 the fix-up gave it, and is always hashed; every other file as delivered.

A million files must not take a million Python objects: the expected files are the deliveries
folded in their index (`offboard.files.index`), what the target holds goes into tables of the same
index (one lstat per name), and missing, extra and different come from queries over them. The
report counts each kind and names at most `EXAMPLES` of each, the first in name order.
`report_table` is the short view for a terminal, `VerifyReport.to_json` the machine-readable one.
"""

from __future__ import annotations

import os
import stat
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Mapping, NamedTuple, Protocol, Sequence

from rich.table import Table
from rich.text import Text

from offboard.files.hashing import sha256_file
from offboard.files.index import FileIndex, Manifest
from offboard.files.manifest import FileEntry
from offboard.files.owners import RESERVED
from offboard.files.progress import Progress, Silent
from offboard.files.selection import Selection, StoreFolders, StoreRoots, file_name
from offboard.fixup.report import RewrittenFile

WHOLE_STORE = "whole store"  # every file under the target's roots is the org's
ORG_ROWS = "files the org's rows point at or its deliveries deleted"  # the stores are shared with other orgs
EXAMPLES = 1000  # names a report gives of each kind, the first in name order

# What verify keeps in the deliveries' index: the names the target holds (with what lstat said), the
# files the fix-up rewrote (from which delivered content), and the names the org's rows point at.
TABLES = """
DROP TABLE IF EXISTS verify_present; DROP TABLE IF EXISTS verify_rewritten; DROP TABLE IF EXISTS verify_owned;
CREATE TABLE verify_present (name TEXT PRIMARY KEY, mode INTEGER, size INTEGER, mtime_ns INTEGER) WITHOUT ROWID;
CREATE TABLE verify_rewritten (name TEXT PRIMARY KEY, delivered TEXT) WITHOUT ROWID;
CREATE TABLE verify_owned (name TEXT PRIMARY KEY) WITHOUT ROWID;
"""
EXPECTED = ("SELECT f.name, f.size, f.mtime_ns, f.sha256, f.archive, r.delivered, p.mode, p.size, p.mtime_ns "
            "FROM folded f LEFT JOIN verify_rewritten r USING (name) LEFT JOIN verify_present p USING (name) ORDER BY f.name")
EXTRA = "FROM verify_present p LEFT JOIN folded f USING (name) WHERE f.name IS NULL"  # held, not expected


@dataclass(frozen=True)
class VerifyReport:
    deliveries: list[str]
    expected: int
    checksum: bool
    scope: str = WHOLE_STORE  # what may count as extra
    rewritten: int = 0  # files expected as the fix-up rewrote them
    missing: list[str] = field(default_factory=list)  # the first EXAMPLES in name order
    extra: list[str] = field(default_factory=list)
    different: dict[str, list[str]] = field(default_factory=dict)  # name -> what differs
    missing_count: int = 0
    extra_count: int = 0
    different_count: int = 0

    @property
    def ok(self) -> bool:
        return not (self.missing_count or self.extra_count or self.different_count)

    def truncated(self) -> list[str]:
        """The kinds whose names are only the first EXAMPLES."""
        return [kind for kind, names, count in (("missing", self.missing, self.missing_count), ("extra", self.extra, self.extra_count),
                                                ("different", self.different, self.different_count)) if len(names) < count]

    def to_json(self) -> dict:
        return {
            "ok": self.ok, "deliveries": self.deliveries, "expected": self.expected, "checksum": self.checksum,
            "scope": self.scope, "rewritten": self.rewritten, "missing_count": self.missing_count, "extra_count": self.extra_count,
            "different_count": self.different_count, "missing": self.missing, "extra": self.extra, "different": self.different,
            "truncated": self.truncated(), "names_at_most": EXAMPLES,
        }


class Found(Protocol):
    st_mode: int
    st_size: int
    st_mtime_ns: int


class Held(NamedTuple):
    """What lstat said of a name, as kept in the index."""

    st_mode: int
    st_size: int
    st_mtime_ns: int


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


def differences(path: str, info: Found, entry: FileEntry | RewrittenFile, checksum: bool) -> list[str]:
    """What differs from the entry; a file the fix-up rewrote has the fix-up's mtime, so its sha256 is always compared."""
    if not stat.S_ISREG(info.st_mode):
        return ["not a regular file"]
    rewritten = isinstance(entry, RewrittenFile)
    found = [what for what, equal in (("size", info.st_size == entry.size),
                                      ("mtime", rewritten or info.st_mtime_ns == entry.mtime_ns)) if not equal]
    if (checksum or rewritten) and "size" not in found and sha256_file(path) != entry.sha256:
        found.append("sha256")
    return found


def storable(name: str) -> str:
    """A name as the index can hold it: a name on disk that is not UTF-8 is shown with its bytes escaped."""
    try:
        name.encode()
        return name
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def held_rows(names: Iterable[tuple[str, Found | None]]) -> Iterator[tuple]:
    return ((storable(name), info.st_mode, info.st_size, info.st_mtime_ns) for name, info in names if info is not None)


def verify_files(roots: StoreRoots, manifests: Sequence[Manifest], *, owned: Selection | None = None,
                 rewritten: Mapping[str, RewrittenFile] | None = None, checksum: bool = True,
                 progress: Progress | None = None) -> VerifyReport:
    """Compare the target roots with the org's files after `manifests` (committed, in order, read into
    one index); a file of `rewritten` (`<store>/<path>` -> what the fix-up made of it) with what the
    fix-up made of it, while it was made of the file last delivered. `owned` is read once, as a stream."""
    rewritten = rewritten or {}
    with nullcontext(manifests[0].index) if manifests else FileIndex() as index:
        index.db.executescript(TABLES)
        index.fold(manifests)
        index.insert("INSERT INTO verify_rewritten VALUES (?, ?)", ((name, file.delivered) for name, file in rewritten.items()))
        folders = StoreFolders(roots)
        if owned is None:
            index.insert("INSERT INTO verify_present VALUES (?, ?, ?, ?)",
                         held_rows(found for store, root in sorted(folders.roots.items()) for found in walk(store, root)))
        else:  # only the org's names (now, or deleted by a delivery) are looked at: other orgs' files are neither read nor reported
            index.insert("INSERT OR IGNORE INTO verify_owned VALUES (?)", ((file_name(store, relative),) for store, relative in owned))
            numbers = ",".join(str(manifest.number) for manifest in manifests)
            names = index.rows(f"SELECT name FROM folded UNION SELECT name FROM deleted WHERE number IN ({numbers}) "
                               "UNION SELECT name FROM verify_owned")
            index.insert("INSERT INTO verify_present VALUES (?, ?, ?, ?)", held_rows((name, lstat(folders.path(name))) for name, in names))
        return compare(index, folders.roots, [m.delivery for m in manifests], rewritten, checksum, owned is None, progress or Silent())


def found_path(roots: Mapping[str, str], name: str) -> str:
    """Where a name the target holds lies: it was found by the walk (which follows no link) or
    through `StoreFolders.path`, so it needs no second check (and no second lstat)."""
    store, _, relative = name.partition("/")
    return os.path.join(roots[store], relative)


def compare(index: FileIndex, roots: Mapping[str, str], deliveries: list[str], rewritten: Mapping[str, RewrittenFile],
            checksum: bool, whole_store: bool, progress: Progress) -> VerifyReport:
    """The report from the folded deliveries and what the target holds, both in `index`."""
    files, total_bytes = index.folded_counts()
    progress.start(total_bytes if checksum else 0, files)
    missing, different, counts = [], {}, {"missing": 0, "different": 0}
    for name, size, mtime_ns, sha256, archive, delivered, *held in index.rows(EXPECTED):
        entry = rewritten[name] if delivered == sha256 else FileEntry(size, mtime_ns, sha256, archive)
        if held[0] is None:
            counts["missing"] += 1
            if len(missing) < EXAMPLES:
                missing.append(name)
        elif found := differences(found_path(roots, name), Held(*held), entry, checksum):
            counts["different"] += 1
            if len(different) < EXAMPLES:
                different[name] = found
        progress.advance(bytes=size if checksum else 0, files=1)
    (fixed,) = index.db.execute("SELECT count(*) FROM folded JOIN verify_rewritten r USING (name) WHERE r.delivered = folded.sha256").fetchone()
    (extra_count,) = index.db.execute(f"SELECT count(*) {EXTRA}").fetchone()
    extra = [name for name, in index.db.execute(f"SELECT p.name {EXTRA} ORDER BY p.name LIMIT {EXAMPLES}")]
    return VerifyReport(deliveries, files, checksum, WHOLE_STORE if whole_store else ORG_ROWS, fixed, missing, extra, different,
                        counts["missing"], extra_count, counts["different"])


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
    for label, names, count in (("missing", report.missing, report.missing_count), ("extra", report.extra, report.extra_count),
                                ("different", different, report.different_count)):
        shown = "\n".join(names[:examples]) + ("\n…" if count > examples else "")
        table.add_row(label, str(count), Text(shown))  # Text: a file name is never markup
    return table
