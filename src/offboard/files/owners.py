"""Whose file is it: an import writes and deletes only what is provably the org's.

The MSP's content stores are shared by every org, their files side by side in the same
folders, and a delivery says nothing trustworthy about who owns a path: whoever holds the
bucket's key can write any name into an archive and its manifest. So the target decides. An
existing file is the org's when an earlier delivery of the org wrote it (the record below), or
when no delivery wrote it and the org's rows in the target, and no other org's, point at it.
An import writes a file only where nothing exists yet or where the file is the org's, and
deletes only the org's files; a name another org's rows point at is never written, even where
its file is absent. Anything else refuses the whole delivery before it is written.

The record is `<store root>/.offboard-owners.sqlite`: kept with the store, so every machine
that imports into the store sees the same, out of reach of the bucket's key, and shared by the
orgs of the store (one owner per name). A delivery claims its names before it moves them into
place, so an import interrupted after its moves finds them its own when run again; one import
at a time writes into a store (`<store root>/.offboard-owners.lock`), from its check to its last
move, so no other can take a name in between.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import TypeVar

from offboard.errors import OffboardError
from offboard.files.manifest import FileEntry
from offboard.files.selection import split_name
from offboard.project import held

RESERVED = ".offboard-"  # names at the top of a target store that this tool keeps for itself
RECORD = f"{RESERVED}owners.sqlite"
LOCK = f"{RESERVED}owners.lock"
BUSY_SECONDS = 60  # another stack's import may be writing the same store's record
LOOKUP_BATCH = 500  # names per query: under every engine's limit on parameters
CHECK_BATCH = 5_000  # names checked, claimed or released at a time: memory stays flat however many a delivery holds
MAX_FOLDER_STATES = 100_000  # folders whose state is kept: a few MB at most
ABSENT, FOLDER, NOT_A_FOLDER = range(3)
Item = TypeVar("Item")
Value = TypeVar("Value")
Name = tuple[str, str]  # (store, path relative to the store)
TenantsOf = Callable[[list[Name]], Mapping[Name, set[str]]]  # which tenants' rows in the target point at each file


@dataclass(frozen=True)
class TargetOrg:
    """The org as the target knows it: its id there, and the target's rows to ask."""

    org_id: str
    tenants_of: TenantsOf


def is_reserved(name: str) -> bool:
    """Whether a canonical `<store>/<relative>` name is one this tool keeps at the top of a store."""
    return name.partition("/")[2].startswith(RESERVED)


class OwnerRecord:
    """Which org's delivery wrote each file of one store root."""

    def __init__(self, root: str) -> None:
        self.path = os.path.join(root, RECORD)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One transaction on the record; its problems as one line."""
        try:
            with closing(sqlite3.connect(self.path, timeout=BUSY_SECONDS)) as connection, connection:
                connection.execute("CREATE TABLE IF NOT EXISTS owned (name TEXT PRIMARY KEY, org TEXT NOT NULL, "
                                   "delivery TEXT NOT NULL, sha256 TEXT NOT NULL, claimed TEXT NOT NULL) WITHOUT ROWID")
                yield connection
        except sqlite3.Error as error:
            raise OffboardError(f"the record of who owns the store's files, {self.path}, cannot be used: {error}") from None

    def owners(self, relatives: list[str]) -> dict[str, str]:
        """relative path -> the org whose delivery wrote it, for those the record knows."""
        if not relatives or not os.path.exists(self.path):
            return {}  # and a dry run leaves no record behind
        found: dict[str, str] = {}
        with self._transaction() as connection:
            for start in range(0, len(relatives), LOOKUP_BATCH):
                batch = relatives[start:start + LOOKUP_BATCH]
                marks = ",".join("?" * len(batch))
                found.update(connection.execute(f"SELECT name, org FROM owned WHERE name IN ({marks})", batch))
        return found

    def delivered(self, org: str) -> dict[str, str]:
        """relative path -> sha256 as delivered, of every file the org's deliveries wrote into the store."""
        if not os.path.exists(self.path):
            return {}
        with self._transaction() as connection:
            return dict(connection.execute("SELECT name, sha256 FROM owned WHERE org = ?", (org,)))

    @contextmanager
    def claiming(self, org: str, delivery: str) -> Iterator[Callable[[list[tuple[str, str]]], None]]:
        """One transaction that records (relative path, sha256) batches as the org's."""
        claimed = datetime.now(UTC).isoformat(timespec="seconds")
        with self._transaction() as connection:
            def claim(files: list[tuple[str, str]]) -> None:
                # a name claimed already for the same content keeps its line: importing again changes nothing
                connection.executemany("INSERT INTO owned VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
                                       "org = excluded.org, delivery = excluded.delivery, sha256 = excluded.sha256, "
                                       "claimed = excluded.claimed WHERE org != excluded.org OR sha256 != excluded.sha256",
                                       ((name, org, delivery, sha256, claimed) for name, sha256 in files))
            yield claim

    def release(self, relatives: Iterable[str], org: str) -> None:
        with self._transaction() as connection:
            connection.executemany("DELETE FROM owned WHERE name = ? AND org = ?", ((name, org) for name in relatives))


class Ownership:
    """The owner checks and the records of one import's target stores."""

    def __init__(self, roots: Mapping[str, str], target: TargetOrg) -> None:
        """`roots`: store -> its root folder in the target, resolved (`StoreFolders.roots`)."""
        self.target = target
        self.roots = dict(roots)
        self.records = {store: OwnerRecord(root) for store, root in roots.items()}

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Held by an import from its check to its last move: no other import (another org's, too)
        can take a name of the store in between."""
        with ExitStack() as locks:
            for root in sorted(set(self.roots.values())):
                locks.enter_context(held(Path(root) / LOCK, f"another import is writing into the store at {root}; "
                                                            "run this one again when it has ended"))
            yield

    def refuse_foreign(self, targets: Iterable[tuple[str, str]], delivery: str) -> None:
        """Refuse the delivery, naming a path, if it would write or delete (`targets`: each name and its
        path in the target, in name order) a file that is not absent or the org's, or a name this tool
        keeps. Checked in batches, every batch before the refusal: its line counts every problem."""
        problems = Problems()
        folders = FolderStates()
        for batch in batched(targets, CHECK_BATCH):
            self._check(dict(batch), folders, problems)
        problems.refuse(delivery)

    def _check(self, targets: Mapping[str, str], folders: FolderStates, problems: Problems) -> None:
        for name in targets:
            if is_reserved(name):
                problems.add(f"{name} is a name offboard keeps for itself in the target's stores")
        present, absent, unusable = self._look_up(targets, folders)
        for problem in unusable:
            problems.add(problem)
        unrecorded = list(absent)
        for store, relatives in present.items():
            owners = self.records[store].owners(relatives)
            for relative in relatives:
                owner = owners.get(relative)
                if owner is None:
                    unrecorded.append((store, relative))
                elif owner != self.target.org_id:
                    problems.add(f"{store}/{relative} is another org's: a delivery of org {owner} wrote it")
        tenants = self.target.tenants_of(unrecorded) if unrecorded else {}
        nothing_there = set(absent)
        for store, relative in unrecorded:
            found = tenants.get((store, relative), set())
            if found - {self.target.org_id}:
                problems.add(f"{store}/{relative} is another org's: rows of org "
                             f"{', '.join(sorted(found - {self.target.org_id}))} in the target point at it")
            elif not found and (store, relative) not in nothing_there:
                problems.add(f"{store}/{relative} exists in the target, and neither a delivery of org "
                             f"{self.target.org_id} nor its rows there show it is the org's")

    @staticmethod
    def _look_up(targets: Mapping[str, str], folders: FolderStates) -> tuple[dict[str, list[str]], list[Name], list[str]]:
        """store -> the relative paths of the names that exist in the target; the names that do not;
        and the problems of those that cannot be written at all (below a file, a name too long, ...)."""
        present: dict[str, list[str]] = {}
        absent: list[Name] = []
        unusable = []
        for name, path in targets.items():
            if is_reserved(name):
                continue
            store, relative = split_name(name)
            try:
                folders.lstat(path)
            except FileNotFoundError:
                absent.append((store, relative))
            except NotADirectoryError:
                unusable.append(f"{name} would lie below a file of the target")
            except OSError as error:
                unusable.append(f"{name} cannot be looked up in the target ({error.strerror})")
            else:
                present.setdefault(store, []).append(relative)
        return present, absent, unusable

    def claim(self, files: Iterable[tuple[str, FileEntry]], delivery: str) -> None:
        """Record the delivery's files (name, entry) as the org's, before they are moved into place."""
        with ExitStack() as stack:
            claiming: dict[str, Callable[[list[tuple[str, str]]], None]] = {}  # a store's record is opened once it has files
            for batch in batched(files, CHECK_BATCH):
                for store, entries in self._by_store(batch).items():
                    if store not in claiming:
                        claiming[store] = stack.enter_context(self.records[store].claiming(self.target.org_id, delivery))
                    claiming[store]([(relative, entry.sha256) for relative, entry in entries])

    def release(self, names: Iterable[str]) -> None:
        """Forget the org's deleted files: the names are free again."""
        for batch in batched(((name, None) for name in names), CHECK_BATCH):
            for store, relatives in self._by_store(batch).items():
                self.records[store].release([relative for relative, _ in relatives], self.target.org_id)

    @staticmethod
    def _by_store(named: Iterable[tuple[str, Value]]) -> dict[str, list[tuple[str, Value]]]:
        grouped: dict[str, list[tuple[str, Value]]] = {}
        for name, value in named:
            store, relative = split_name(name)
            grouped.setdefault(store, []).append((relative, value))
        return grouped


class Problems:
    """What refuses a delivery: the first problem found, and how many."""

    def __init__(self) -> None:
        self.first: str | None = None
        self.count = 0

    def add(self, problem: str) -> None:
        self.first = self.first or problem
        self.count += 1

    def refuse(self, delivery: str) -> None:
        if self.count:
            more = f" (and {self.count - 1} more)" if self.count > 1 else ""
            raise OffboardError(f"delivery {delivery} refused, nothing written: {self.first}{more}; check who wrote "
                                "the delivery (the bucket's key may have leaked) and the target's store")


class FolderStates:
    """`os.lstat` of many paths, sparing the call where a folder above is known absent or a file:
    an initial import into an empty store looks up each of its top folders, not each of its files.
    Names come in order, so the folders of one batch repeat; the cache is dropped when it grows."""

    def __init__(self) -> None:
        self.states: dict[str, int] = {}  # folder -> one of the states below

    def lstat(self, path: str) -> os.stat_result:
        """As os.lstat(path) answers, raising FileNotFoundError or NotADirectoryError as it would."""
        state = self._state(os.path.dirname(path))
        if state == ABSENT:
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), path)
        if state == NOT_A_FOLDER:
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), path)
        return os.lstat(path)

    def _state(self, folder: str) -> int:
        state = self.states.get(folder)
        if state is not None:
            return state
        parent = os.path.dirname(folder)
        above = self._state(parent) if parent != folder else FOLDER
        if above != FOLDER:
            state = ABSENT if above == ABSENT else NOT_A_FOLDER
        else:
            try:
                state = FOLDER if stat.S_ISDIR(os.stat(folder).st_mode) else NOT_A_FOLDER
            except FileNotFoundError:
                state = ABSENT
            except NotADirectoryError:
                state = NOT_A_FOLDER
            except OSError:
                state = FOLDER  # say nothing: the path's own lstat tells what is wrong
        if len(self.states) >= MAX_FOLDER_STATES:
            self.states.clear()
        self.states[folder] = state
        return state


def batched(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    items = iter(items)
    while batch := list(islice(items, size)):
        yield batch
