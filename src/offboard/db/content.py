"""The org's binaries: which files of the shared content stores belong to the org.

All orgs' files lie side by side in a store, so the org's are chosen by its rows: every
content table of the catalog names its store and the column locating a row's file in it.
The pairs are what the files export takes as its selection (offboard.files.selection).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from offboard.db.catalog import Catalog
from offboard.db.connect import database_errors, open_engines
from offboard.db.scan import org_batches


def org_content(catalog: Catalog, sources: Mapping[str, str], org_id: str) -> Iterator[tuple[str, str]]:
    """(store, path relative to the store) of every file the org's rows point at."""
    tables = [t for t in catalog.tables() if t.content is not None]
    engines = open_engines(sources, dict.fromkeys(t.database for t in tables), "source")
    for spec in tables:
        engine = engines[spec.database]
        with database_errors(engine, f"reading {spec.qualified}"), engine.connect() as connection:
            for batch in org_batches(connection, spec, org_id, [spec.content.locator]):
                yield from ((spec.content.store, path) for (path,) in batch if path)
