"""The org's binaries: which files of the shared content stores belong to the org.

All orgs' files lie side by side in a store, so the org's are chosen by its rows: every
content table of the catalog names its store and the column locating a row's file in it.
The pairs are what the files export takes as its selection (offboard.files.selection); in a
target, the tenants of the rows pointing at a file tell the files import whose file it is.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence

import sqlalchemy as sa

from offboard.db.catalog import Catalog, TableSpec
from offboard.db.connect import database_errors, open_engines, table_of
from offboard.db.scan import org_batches
from offboard.db.statements import LOOKUP_BATCH, select_locators

SCAN_FROM = 20 * LOOKUP_BATCH  # more paths than this: one pass over the table instead of lookups
SCAN_ROWS = 10_000  # rows fetched at a time in that pass


def org_content(catalog: Catalog, sources: Mapping[str, str], org_id: str) -> Iterator[tuple[str, str]]:
    """(store, path relative to the store) of every file the org's rows point at."""
    tables = [t for t in catalog.tables() if t.content is not None]
    engines = open_engines(sources, dict.fromkeys(t.database for t in tables), "source")
    for spec in tables:
        engine = engines[spec.database]
        with database_errors(engine, f"reading {spec.qualified}"), engine.connect() as connection:
            for batch in org_batches(connection, spec, org_id, [spec.content.locator]):
                yield from ((spec.content.store, path) for (path,) in batch if path)


def content_tenants(catalog: Catalog, urls: Mapping[str, str], files: Sequence[tuple[str, str]]) -> dict[tuple[str, str], set[str]]:
    """(store, path) -> the tenants whose rows point at that file, for the given files that any row
    points at. DB2 pads CHAR values with blanks: they are stripped before comparing."""
    paths: dict[str, list[str]] = defaultdict(list)
    for store, path in files:
        paths[store].append(path)
    tables = [t for t in catalog.tables() if t.content is not None and t.content.store in paths]
    engines = open_engines(urls, dict.fromkeys(t.database for t in tables), "target")
    found: dict[tuple[str, str], set[str]] = defaultdict(set)
    for spec in tables:
        engine, store = engines[spec.database], spec.content.store
        with database_errors(engine, f"reading {spec.qualified}"), engine.connect() as connection:
            for path, tenant in _pointing_at(connection, table_of(spec, engine), spec, paths[store]):
                found[(store, path.rstrip(" "))].add(str(tenant).rstrip(" "))
    return dict(found)


def _pointing_at(connection: sa.Connection, table: sa.Table, spec: TableSpec, paths: list[str]) -> Iterator[tuple[str, str]]:
    """(locator, tenant) of the table's rows pointing at `paths`: looked up a batch of paths at a
    time, or, for more paths than that makes cheap, picked from one pass over the table (nothing
    says the locator column has an index; the MSP's table holds every org's rows)."""
    if len(paths) <= SCAN_FROM:
        statement = select_locators(table, spec.content.locator, spec.tenant, among_paths=True)
        for start in range(0, len(paths), LOOKUP_BATCH):
            yield from connection.execute(statement, {"paths": paths[start:start + LOOKUP_BATCH]})
        return
    wanted = {path.rstrip(" ") for path in paths}
    rows = connection.execution_options(yield_per=SCAN_ROWS).execute(select_locators(table, spec.content.locator, spec.tenant,
                                                                                      among_paths=False))
    yield from (row for row in rows if row[0] is not None and row[0].rstrip(" ") in wanted)
