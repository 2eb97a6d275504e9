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
can be applied again without harm; one that names the key of another org's row is refused.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from offboard.db.bulk import executing, inserting, upserting
from offboard.db.catalog import Catalog, TableSpec
from offboard.db.connect import database_errors, open_engines, require_tables, shown, table_of
from offboard.db.delfile import check_file, read_batches
from offboard.db.fit import Fit
from offboard.db.manifest import MANIFEST_FILE, Manifest, TableEntry, catalogued, read_manifest
from offboard.delivery import INITIAL
from offboard.db.scan import Progress, count_rows, table_state
from offboard.db.statements import LOOKUP_BATCH, delete_keys, select_keys_of_others, tenant_literal
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
            write = upserting(connection, target, spec.tenant, spec.key, target_org_id)
        fit = Fit(spec.columns.items(), spec.key)
        for chunk in entry.chunks:
            records = 0
            for batch in read_batches(folder / chunk.file, spec.field_chars, chunk.empty_strings > 0, batch_rows):
                strangers = spec.foreign_tenants(batch, manifest.org_id)
                if strangers:
                    raise OffboardError(f"{chunk.file} holds rows of tenant {', '.join(sorted(map(repr, strangers)))}")
                misfit = fit.first_misfit(batch)
                if misfit:
                    raise OffboardError(f"{chunk.file}: record {records + misfit.row + 1}: {misfit.column} {misfit.problem}")
                if manifest.delivery != INITIAL:  # an insert of another org's key fails on its own; an upsert would skip it
                    _refuse_keys_of_others(connection, target, spec, target_org_id, _keys(spec, batch), f"{chunk.file}: a record")
                write(batch)
                records += len(batch)
                written += len(batch)
                if progress:
                    progress(spec.qualified, written)
        if entry.deleted:
            _refuse_keys_of_others(connection, target, spec, target_org_id, [tuple(map(str, key)) for key in entry.deleted],
                                   f"{MANIFEST_FILE}: a deletion")
            executing(connection, delete_keys(target, spec.tenant, spec.key, target_org_id), spec.key)(entry.deleted)
        after = count_rows(connection, spec, target_org_id)
        if after != entry.rows_total:
            raise OffboardError(
                f"{spec.qualified} in {shown(engine)} would hold {after} rows of org {target_org_id}, the source had "
                f"{entry.rows_total} (a key taken by another org?)"
            )
    return written


def _keys(spec: TableSpec, batch: list[list[str | None]]) -> list[tuple]:
    return [tuple(row[i] for i in spec.key_positions) for row in batch]


def _refuse_keys_of_others(connection: sa.Connection, target: sa.Table, spec: TableSpec, org_id: str, keys: list[tuple],
                           what: str) -> None:
    """Refuse a delta that names the key of another org's row: the tenant predicate of the upsert
    and the delete would leave that row alone, and the org's own change would be lost in silence."""
    statement, wanted = select_keys_of_others(target, spec.tenant, spec.key, org_id), set(keys)
    firsts = sorted({key[0] for key in keys})
    for start in range(0, len(firsts), LOOKUP_BATCH):
        for row in connection.execute(statement, {"firsts": firsts[start:start + LOOKUP_BATCH]}):
            if tuple(map(str, row)) in wanted:
                raise OffboardError(f"{what} names the key {', '.join(map(str, row))}, which a row of another org holds in the target")


@contextmanager
def _left_unchanged(spec: TableSpec) -> Iterator[None]:
    """A refusal inside a table's transaction, which was rolled back, says so."""
    try:
        yield
    except OffboardError as error:
        raise OffboardError(f"{error}: {spec.qualified} left unchanged") from None

