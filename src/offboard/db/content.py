"""The org's binaries: which files of the shared content stores belong to the org.

All orgs' files lie side by side in a store, so the org's are chosen by its rows: every
content table of the catalog names its store and how a row's binaries are found there: the
columns spelling its path, the id column from which the store's layout computes the path
(`binary_path`), or the column naming a folder whose every file is the row's.
The pairs are what the files export takes as its selection (offboard.files.selection); in a
target, the tenants of the rows pointing at a file tell the files import whose file it is.
"""

from __future__ import annotations

import os
import uuid
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import sqlalchemy as sa

from offboard.db.catalog import Catalog, Layout, TableSpec
from offboard.db.connect import database_errors, opened_engines, table_of
from offboard.db.scan import looked_up, org_batches
from offboard.db.statements import LOOKUP_BATCH, select_locators
from offboard.errors import OffboardError


def binary_path(layout: Layout, value: bytes | str) -> str:
    """Where a store with a hashed-id layout keeps the binary of a row whose id is `value`:
    `levels` folders, level i named by byte i of the id modulo `fanout`, then the id's own name
    (a 16-byte id as a UUID, a text id as it is). The product does not publish the rule; the
    catalog says it is inferred, and `offboard catalog check` counts how many binaries it finds."""
    raw, name = _id_bytes_and_name(value)
    folders = [str(raw[level % len(raw)] % layout.fanout) for level in range(layout.levels)]
    return "/".join([*folders, name])


def id_of_path(layout: Layout, path: str, binary: bool) -> bytes | str | None:
    """The id a path of a hashed-id store names (the inverse of `binary_path`), or None when
    the path is not one the layout makes."""
    name = path.rsplit("/", 1)[-1]
    try:
        value: bytes | str = uuid.UUID(name).bytes if binary else name
    except ValueError:
        return None
    return value if binary_path(layout, value) == path else None


def _id_bytes_and_name(value: bytes | str) -> tuple[bytes, str]:
    if isinstance(value, bytes):
        return value, str(uuid.UUID(bytes=value)) if len(value) == 16 else value.hex()
    text = value.rstrip(" ")
    return text.encode(), text


SCAN_FROM = 20 * LOOKUP_BATCH  # more paths than this: one pass over the table instead of lookups
SCAN_ROWS = 10_000  # rows fetched at a time in that pass


class _Locator:
    """Between a content table's locator columns and the paths of a row's binaries in its store."""

    def __init__(self, catalog: Catalog, spec: TableSpec) -> None:
        content = spec.content
        self.store = content.store
        self.columns = content.columns
        self.lookup = self.columns[-1]  # the column a target is asked by: the id, the folder, a path's last part
        self.folder = content.folder is not None
        self._layout = catalog.content_stores[self.store].layout if content.id else None
        self._binary = spec.types[self.lookup].is_binary

    def path(self, values: Sequence) -> str | None:
        """The path (a folder's, for a folder locator) of a row's locator values; None when one is NULL or empty."""
        if any(value is None or value in ("", b"") for value in values):
            return None
        if self._layout:
            return binary_path(self._layout, values[0])
        parts = [part for value in values for part in value.rstrip(" ").split("/") if part not in ("", ".")]
        if not parts or ".." in parts:  # the store itself, or outside it: never a row's binary
            return None
        return "/".join(parts)

    def candidates(self, path: str) -> list:
        """The lookup column's values of the rows that may point at `path`."""
        if self._layout:
            value = id_of_path(self._layout, path, self._binary)
            return [] if value is None else [value]
        parts = path.split("/")
        if self.folder:
            return ["/".join(parts[:n]) for n in range(1, len(parts))]  # every folder above the file
        return [parts[-1] if len(self.columns) > 1 else path]

    def points_at(self, values: Sequence, path: str) -> bool:
        found = self.path(values)
        return found is not None and (path.startswith(found + "/") if self.folder else path == found)


def org_content(catalog: Catalog, sources: Mapping[str, str], org_id: str, roots: Mapping[str, Path],
                links_only: bool = False) -> Iterator[tuple[str, str]]:
    """(store, path relative to the store) of every file the org's rows point at (`links_only`: of
    the tables whose binaries hold links); a folder's files are listed under its store's root in
    `roots` (not following links)."""
    tables = [t for t in catalog.tables() if t.content is not None and (t.content.links or not links_only)]
    with opened_engines(sources, dict.fromkeys(t.database for t in tables), "source") as engines:
        for spec in tables:
            engine, locator = engines[spec.database], _Locator(catalog, spec)
            with database_errors(engine, f"reading {spec.qualified}"), engine.connect() as connection:
                for batch in org_batches(connection, spec, org_id, locator.columns):
                    for path in filter(None, map(locator.path, batch)):
                        if locator.folder:
                            yield from ((locator.store, f"{path}/{file}") for file in _files_under(roots, locator.store, path))
                        else:
                            yield locator.store, path


def _files_under(roots: Mapping[str, Path], store: str, folder: str) -> Iterator[str]:
    """Every regular file under `folder` of the store, relative to the folder, in name order."""
    if store not in roots:
        raise OffboardError(f"no root is configured for store {store!r}, whose folders the org's rows name")
    top = Path(roots[store]) / folder  # `folder` is relative and without `..` (_Locator.path)
    if not top.is_dir() or top.is_symlink():
        return
    for base, folders, files in os.walk(top):
        folders.sort()
        for name in sorted(files):
            if (Path(base) / name).is_file() and not (Path(base) / name).is_symlink():
                yield (Path(base) / name).relative_to(top).as_posix()


def content_tenants(catalog: Catalog, urls: Mapping[str, str], files: Sequence[tuple[str, str]]) -> dict[tuple[str, str], set[str]]:
    """(store, path) -> the tenants whose rows point at that file, for the given files that any row
    points at. DB2 pads CHAR values with blanks: they are stripped before comparing."""
    paths: dict[str, list[str]] = defaultdict(list)
    for store, path in files:
        paths[store].append(path)
    tables = [t for t in catalog.tables() if t.content is not None and t.content.store in paths]
    with opened_engines(urls, dict.fromkeys(t.database for t in tables), "target") as engines:
        found: dict[tuple[str, str], set[str]] = defaultdict(set)
        for spec in tables:
            engine, locator = engines[spec.database], _Locator(catalog, spec)
            wanted: dict = defaultdict(list)  # lookup value -> the paths it may point at
            for path in paths[locator.store]:
                for value in locator.candidates(path):
                    wanted[_stripped(value)].append(path)
            with database_errors(engine, f"reading {spec.qualified}"), engine.connect() as connection:
                for row in _rows_looked_up(connection, table_of(spec, engine), spec, locator, list(wanted)):
                    for path in wanted.get(_stripped(row[-2]), ()):
                        if locator.points_at(row[:-1], path):
                            found[(locator.store, path)].add(str(row[-1]).rstrip(" "))
        return dict(found)


def _rows_looked_up(connection: sa.Connection, table: sa.Table, spec: TableSpec, locator: _Locator, values: list) -> Iterator[tuple]:
    """(locator columns..., tenant) of the table's rows whose lookup column is among `values`:
    looked up a batch at a time, or, for more than that makes cheap, picked from one pass over the
    table (nothing says the column has an index; the MSP's table holds every org's rows)."""
    if len(values) <= SCAN_FROM:
        yield from looked_up(connection, select_locators(table, locator.columns, spec.tenant, among=True), "values", values)
        return
    wanted = set(values)
    rows = connection.execution_options(yield_per=SCAN_ROWS).execute(select_locators(table, locator.columns, spec.tenant, among=False))
    yield from (row for row in rows if row[-2] is not None and _stripped(row[-2]) in wanted)


def _stripped(value: bytes | str) -> bytes | str:
    return value if isinstance(value, bytes) else value.rstrip(" ")
