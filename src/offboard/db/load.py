"""Import: a committed delivery into the target databases (staging or production).

Everything that can be refused is checked before the first write: the manifest is the org's,
its tables and their shapes are the catalog's, every chunk is complete and unaltered, every
table and column exists in the target, and each table is in the state the delivery expects.
Then each table loads in one transaction: all of it or none of it, finished by a count of the
org's rows that must equal the source's. A chunk whose records do not fit the catalog's columns
(a record or field too long, another number of fields, a row of another tenant, a value its
column's type cannot hold: `db.fit`) is refused while its table loads, and that table is left
unchanged.

The shapes (columns, types, tenant column, key) are always the catalog's: whoever holds the
bucket's key can rewrite a delivery, manifest and checksums included.

The org's rows go in under the MSP's org id (`target_org_id`) in the tenant column: the target
is multi-tenant, and the org has its own id there. The fix-up rewrites the other references.

Initial, run again: a table that already holds exactly the delivery's rows (same count and
checksum) is skipped, so a run that stopped halfway resumes; a table holding anything else
for the org is refused rather than emptied, since those rows may be staging work (a fix-up,
a delta) that a full reload would silently throw away. A delta is an upsert plus deletes and
can be applied again without harm.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from offboard.db.catalog import Catalog, TableSpec
from offboard.db.bulk import executing, inserting
from offboard.db.connect import database_errors, open_engines, require_tables, shown, table_of
from offboard.db.delfile import check_file, read_batches
from offboard.db.fit import Fit
from offboard.db.manifest import MANIFEST_FILE, Manifest, TableEntry, catalogued, read_manifest
from offboard.delivery import INITIAL
from offboard.db.scan import Progress, count_rows, table_state
from offboard.db.statements import delete_keys, tenant_literal, upsert_rows
from offboard.errors import OffboardError

BATCH_ROWS = 10_000
LOAD, SKIP, MERGE = "loaded", "already loaded", "merged"


@dataclass(frozen=True)
class TableImport:
    table: str
    action: str  # loaded | already loaded | merged
    rows: int  # rows written (inserted or upserted)
    deleted: int


@dataclass(frozen=True)
class ImportResult:
    delivery: str
    org_id: str
    target_org_id: str
    tables: list[TableImport]


def import_delivery(
    catalog: Catalog,
    delivery_dir: Path,
    targets: Mapping[str, str],
    *,
    org_id: str,
    target_org_id: str,
    batch_rows: int = BATCH_ROWS,
    progress: Progress | None = None,
) -> ImportResult:
    """Load `delivery_dir` into `targets` (Connections database -> URL) for org `org_id`."""
    tenant_literal(target_org_id)  # validates it
    manifest = read_manifest(delivery_dir)
    if manifest.org_id != org_id:
        raise OffboardError(f"{delivery_dir} is a delivery of org {manifest.org_id}, not of {org_id}: nothing imported")
    tables = catalogued(manifest, catalog, str(delivery_dir / MANIFEST_FILE))
    engines = open_engines(targets, dict.fromkeys(spec.database for spec, _ in tables), "target")
    for _, entry in tables:
        for chunk in entry.chunks:
            check_file(delivery_dir, chunk)
    for database, engine in engines.items():
        require_tables(engine, [spec for spec, _ in tables if spec.database == database])
    actions = [_action(engines[spec.database], manifest, spec, entry, target_org_id) for spec, entry in tables]
    results = []
    for (spec, entry), action in zip(tables, actions):
        if action == SKIP:
            results.append(TableImport(spec.qualified, SKIP, 0, 0))
        else:
            written = _load(engines[spec.database], delivery_dir, manifest, spec, entry, target_org_id, batch_rows, progress)
            results.append(TableImport(spec.qualified, action, written, len(entry.deleted)))
    return ImportResult(manifest.delivery, org_id, target_org_id, results)


def _action(engine: sa.Engine, manifest: Manifest, spec: TableSpec, entry: TableEntry, target_org_id: str) -> str:
    """What to do with one table, or a refusal when the target is not in the expected state."""
    with database_errors(engine, f"reading {spec.qualified}"), engine.connect() as connection:
        present = count_rows(connection, spec, target_org_id)
        if manifest.delivery != INITIAL:
            if present not in (entry.rows_before, entry.rows_total):
                raise OffboardError(
                    f"{spec.qualified} in {shown(engine)} holds {present} rows of org {target_org_id}, but "
                    f"{manifest.delivery} follows {manifest.previous} with {entry.rows_before}: import the deliveries in order"
                )
            return MERGE
        if present == 0:
            return LOAD
        if present == entry.rows_total and table_state(connection, spec, target_org_id).checksum == entry.checksum:
            return SKIP
    raise OffboardError(
        f"{spec.qualified} in {shown(engine)} already holds {present} rows of org {target_org_id} that are not this "
        f"initial delivery; an initial import needs the org's rows absent (import a delta instead, or clear the org)"
    )


def _load(
    engine: sa.Engine,
    folder: Path,
    manifest: Manifest,
    spec: TableSpec,
    entry: TableEntry,
    target_org_id: str,
    batch_rows: int,
    progress: Progress | None,
) -> int:
    target = table_of(spec, engine)
    written = 0
    with _left_unchanged(spec), database_errors(engine, f"importing {spec.qualified}"), engine.begin() as connection:
        if manifest.delivery == INITIAL:
            write = inserting(connection, target, spec.tenant, target_org_id)
        else:
            upsert = upsert_rows(target, spec.tenant, spec.key, target_org_id, engine.dialect.name)
            write = executing(connection, upsert, spec.column_names, [name for name in spec.column_names if name != spec.tenant])
        fit = Fit(spec.columns.items())
        for chunk in entry.chunks:
            records = 0
            for batch in read_batches(folder / chunk.file, spec.field_chars, chunk.empty_strings > 0, batch_rows):
                strangers = spec.foreign_tenants(batch, manifest.org_id)
                if strangers:
                    raise OffboardError(f"{chunk.file} holds rows of tenant {', '.join(sorted(map(repr, strangers)))}")
                misfit = fit.first_misfit(batch)
                if misfit:
                    raise OffboardError(f"{chunk.file}: record {records + misfit.row + 1}: {misfit.column} {misfit.problem}")
                write(batch)
                records += len(batch)
                written += len(batch)
                if progress:
                    progress(spec.qualified, written)
        if entry.deleted:
            executing(connection, delete_keys(target, spec.tenant, spec.key, target_org_id), spec.key)(entry.deleted)
        after = count_rows(connection, spec, target_org_id)
        if after != entry.rows_total:
            raise OffboardError(
                f"{spec.qualified} in {shown(engine)} would hold {after} rows of org {target_org_id}, the source had "
                f"{entry.rows_total} (a key taken by another org?)"
            )
    return written


@contextmanager
def _left_unchanged(spec: TableSpec) -> Iterator[None]:
    """A refusal inside a table's transaction, which was rolled back, says so."""
    try:
        yield
    except OffboardError as error:
        raise OffboardError(f"{error}: {spec.qualified} left unchanged") from None

