"""Import: a committed delivery into the target databases (staging or production).

Everything that can be refused is checked before the first write: the manifest is the org's,
its tables and their shapes are the catalog's, every chunk is complete and unaltered, every
table and column exists in the target, and each table is in the state the delivery expects.
Then every table loads, each finished by a count of the org's rows that must equal the
source's, in one transaction per target database, committed only once every table of every
database has loaded: all of the delivery or none of it. A chunk whose records do not fit the
catalog's columns (a record or field too long, another number of fields, a row of another
tenant, a value its column's type cannot hold: `db.fit`) is refused while its table loads, and
the target is left as it was, the tables loaded before it included.

The shapes (columns, types, tenant column, key) are always the catalog's: whoever holds the
bucket's key can rewrite a delivery, manifest and checksums included.

The org's rows go in under the MSP's org id (`target_org_id`) in the tenant column: the target
is multi-tenant, and the org has its own id there. The fix-up rewrites the other references.

Initial, run again: a table that already holds exactly the delivery's rows (same count and
checksum) is skipped, so a run that stopped halfway resumes; a table holding anything else
for the org is refused rather than emptied, since those rows may be staging work (a fix-up,
a delta) that a full reload would silently throw away. A delta is an upsert plus deletes and
can be applied again without harm; one that names the key of another org's row is refused.

A person table (the catalog's `person`) may also hold the target's own rows, made by the MSP's
directory sync before the import: only rows whose key a delivery holds are the org's, people the
fix-up merged stay merged, and no delivery may change the target's own (offboard.db.persons).

Tables load in the catalog's load order, parents first (foreign keys in the target hold at every
statement); a delta's deletions run afterwards, children first, each table's ending with the
count check. The databases commit one after the other at the end: a commit that fails there
(the server gone, a full disk) can leave the databases before it committed; the import run
again resumes them. An `ensure` table (the org's own row that the others reference)
keeps the target's row when the target has one, and gets the delivery's otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from offboard.db.bulk import executing, inserting, upserting
from offboard.db.catalog import Catalog, TableSpec
from offboard.db.collection import fewer_collections
from offboard.db.connect import database_errors, opened_engines, require_tables, shown, table_of
from offboard.db.delfile import FileInfo, check_file, read_batches
from offboard.db.fit import Fit
from offboard.db.manifest import MANIFEST_FILE, Manifest, TableEntry, catalogued, read_manifest
from offboard.delivery import INITIAL
from offboard.db.persons import Merged, OrgRows
from offboard.db.scan import Progress, count_rows, looked_up
from offboard.db.statements import delete_keys, select_keys_of_others, select_referencing, tenant_literal
from offboard.db.values import Decoder, driver_value, shown_value
from offboard.errors import OffboardError

BATCH_ROWS = 10_000
LOAD, SKIP, MERGE, KEEP = "loaded", "already loaded", "merged", "kept the target's own"


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
    merged: Merged | None = None,
    batch_rows: int = BATCH_ROWS,
    progress: Progress | None = None,
) -> ImportResult:
    """Load `delivery_dir` into `targets` (Connections database -> URL) for org `org_id`; `merged`:
    the people the target's fix-up merged (offboard.fixup.report.merged_keys)."""
    tenant_literal(target_org_id)  # validates it
    manifest = read_manifest(delivery_dir)
    if manifest.org_id != org_id:
        raise OffboardError(f"{delivery_dir} is a delivery of org {manifest.org_id}, not of {org_id}: nothing imported")
    tables = catalogued(manifest, catalog, str(delivery_dir / MANIFEST_FILE))
    # An initial import finds none of the org's rows in the target: nothing of theirs merged yet.
    org = OrgRows.of(catalog, delivery_dir, manifest, target_org_id, merged if manifest.delivery != INITIAL else None)
    with opened_engines(targets, dict.fromkeys(spec.database for spec, _ in tables), "target") as engines:
        for _, entry in tables:
            for chunk in entry.chunks:
                check_file(delivery_dir, chunk)
        for database, engine in engines.items():
            require_tables(engine, [spec for spec, _ in tables if spec.database == database])
        # A delta's deletions, of every table it merges into (the others' are never read).
        deleted = [_deleted_keys(spec, entry) if manifest.delivery != INITIAL and not spec.ensure else [] for spec, entry in tables]
        actions, contested = zip(*(_action(engines[spec.database], manifest, spec, entry, org, gone)
                                   for (spec, entry), gone in zip(tables, deleted)))
        deletions = [gone if action == MERGE else [] for gone, action in zip(deleted, actions)]
        for (spec, _), keys in zip(tables, deletions):
            org.check_deleted(spec, keys, MANIFEST_FILE)
        deletions = [org.keys_onto_merged(spec, keys) for (spec, _), keys in zip(tables, deletions)]
        for (spec, _), keys in zip(tables, deletions):
            if keys:
                engine = engines[spec.database]
                with database_errors(engine, f"reading {spec.qualified}"), engine.connect() as connection:
                    _refuse_keys_of_others(connection, table_of(spec, engine), spec, target_org_id, keys,
                                           f"{MANIFEST_FILE}: a deletion of {spec.qualified}")
        _refuse_orphans(engines, tables, deletions, target_org_id)
        with ExitStack() as transactions:
            by_engine: dict[sa.Engine, sa.Connection] = {}  # databases on one server database share its engine
            for engine in engines.values():
                if engine not in by_engine:
                    by_engine[engine] = transactions.enter_context(_transaction(engine))
            connections = {database: by_engine[engine] for database, engine in engines.items()}
            with _left_as_it_was():  # every transaction is rolled back on the way out
                written = [
                    _load(engines[spec.database], connections[spec.database], delivery_dir, manifest, spec, entry, org, mine,
                          batch_rows, progress)
                    if action in (LOAD, MERGE) else 0
                    for (spec, entry), action, mine in zip(tables, actions, contested)
                ]
                for (spec, entry), action, keys in reversed(list(zip(tables, actions, deletions))):
                    if action == MERGE:
                        _delete(engines[spec.database], connections[spec.database], spec, entry, org, keys)
        results = [TableImport(spec.qualified, action, rows, len(keys))
                   for (spec, _), action, rows, keys in zip(tables, actions, written, deletions)]
        return ImportResult(manifest.delivery, org_id, target_org_id, results)


def _action(engine: sa.Engine, manifest: Manifest, spec: TableSpec, entry: TableEntry, org: OrgRows,
            deleted: list[tuple]) -> tuple[str, dict[str, bytes]]:
    """What to do with one table (`deleted`: the delta's deletions of it), and the rows of the
    target's own people it must leave alone (or that an interrupted run of this delivery wrote); a
    refusal when the target is not in the expected state."""
    target_org_id = org.id
    with database_errors(engine, f"reading {spec.qualified}"), engine.connect() as connection:
        seen, contested = org.survey(connection, spec)  # a person table read once

        def checksum() -> str:
            return (seen or org.state(connection, spec)).checksum

        present = seen.rows if seen else count_rows(connection, spec, target_org_id)
        if spec.ensure:  # the target's row stays, be it the MSP's own or one an earlier run loaded
            if not present:
                return LOAD, contested
            same = present == entry.rows_total and checksum() == entry.checksum
            return (SKIP if same else KEEP), contested
        if manifest.delivery != INITIAL:
            # Before, after, or between the rows and the deletions of an import that stopped.
            states = org.states(spec, entry, deleted)
            if present not in states:
                raise OffboardError(
                    f"{spec.qualified} in {shown(engine)} holds {present} rows of org {target_org_id}, but "
                    f"{manifest.delivery} follows {manifest.previous} with {states[0]}: import the deliveries in order"
                )
            return MERGE, contested
        if present == 0:
            return LOAD, contested
        if present == org.expected(spec, entry) and checksum() == entry.checksum:
            return SKIP, contested
    raise OffboardError(
        f"{spec.qualified} in {shown(engine)} already holds {present} rows of org {target_org_id} that are not this "
        f"initial delivery; an initial import needs the org's rows absent (import a delta instead, or remove the org's rows "
        f"from the target first)"
    )


@contextmanager
def _transaction(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A target database's one transaction, committed when the import leaves it without an error."""
    with database_errors(engine, "committing the import"), engine.begin() as connection:
        yield connection


def _load(
    engine: sa.Engine,
    connection: sa.Connection,
    folder: Path,
    manifest: Manifest,
    spec: TableSpec,
    entry: TableEntry,
    org: OrgRows,
    contested: Mapping[str, bytes],
    batch_rows: int,
    progress: Progress | None,
) -> int:
    """Insert (initial, ensure) or upsert (delta) the delivery's rows of one table; an insert
    ends with the count check, a delta's after its deletions (`_delete`)."""
    target, target_org_id = table_of(spec, engine), org.id
    inserts = manifest.delivery == INITIAL or spec.ensure
    onto_merged = None if inserts else org.onto_merged(spec)
    written = 0
    with fewer_collections(), database_errors(engine, f"importing {spec.qualified}"):
        if inserts:
            writing = inserting(connection, target, spec.tenant, target_org_id)
        else:
            writing = nullcontext(upserting(connection, target, spec.tenant, spec.key, target_org_id))
        fit = Fit(spec.columns.items(), spec.key)
        with writing as write:
            for chunk in entry.chunks:
                for rows in _checked_rows(folder, chunk, spec, fit, manifest.org_id, batch_rows):
                    org.check_rows(spec, rows, contested, chunk.file)
                    if onto_merged:
                        rows = onto_merged(rows)
                    if not inserts:  # an insert of another org's key fails on its own; an upsert would skip it
                        _refuse_keys_of_others(connection, target, spec, target_org_id, _keys(spec, rows), f"{chunk.file}: a record")
                    write(rows)
                    written += len(rows)
                    if progress:
                        progress(spec.qualified, written)
        if inserts:
            _require_count(connection, engine, spec, entry, org)
    return written


def _checked_rows(folder: Path, chunk: FileInfo, spec: TableSpec, fit: Fit, org_id: str, batch_rows: int) -> Iterator[list[list]]:
    """A chunk's records as driver values, in batches; a refusal at the first batch holding a
    record of another tenant or one that does not fit its columns."""
    records = 0
    decoder = Decoder(list(spec.types.values()), folder, chunk.lobs, chunk.file)
    try:
        for batch in read_batches(folder / chunk.file, spec.field_chars, chunk.empty_strings > 0, batch_rows):
            strangers = spec.foreign_tenants(batch, org_id)
            if strangers:
                raise OffboardError(f"{chunk.file} holds rows of tenant {', '.join(sorted(map(repr, strangers)))}")
            misfit = fit.first_misfit(batch)
            if misfit:
                raise OffboardError(f"{chunk.file}: record {records + misfit.row + 1}: {misfit.column} {misfit.problem}")
            records += len(batch)
            yield from decoder.batches(batch)
        decoder.finish()
    finally:
        decoder.close()


def _delete(engine: sa.Engine, connection: sa.Connection, spec: TableSpec, entry: TableEntry, org: OrgRows,
            keys: list[tuple]) -> None:
    """A delta's deletions of one table, then its count check."""
    target = table_of(spec, engine)
    with database_errors(engine, f"importing {spec.qualified}"):
        if keys:  # none of another org's (refused before the first write)
            executing(connection, delete_keys(target, spec.tenant, spec.key, org.id), spec.key)(keys)
        _require_count(connection, engine, spec, entry, org)


def _require_count(connection: sa.Connection, engine: sa.Engine, spec: TableSpec, entry: TableEntry, org: OrgRows) -> None:
    after, expected = org.present(connection, spec), org.expected(spec, entry)
    if after != expected:
        merged = f", less {entry.rows_total - expected} merged into the target's people" if expected != entry.rows_total else ""
        raise OffboardError(
            f"{spec.qualified} in {shown(engine)} would hold {after} rows of org {org.id}, the source had "
            f"{entry.rows_total}{merged} (a key taken by another org?)"
        )


def _deleted_keys(spec: TableSpec, entry: TableEntry) -> list[tuple]:
    """The manifest's deleted keys as the driver takes them (bytes for binary columns), or a refusal."""
    types = [spec.types[k] for k in spec.key]
    try:
        return [tuple(driver_value(t, value) for t, value in zip(types, key)) for key in entry.deleted]
    except (TypeError, ValueError):
        raise OffboardError(f"{MANIFEST_FILE}: {spec.qualified} deletes a key that its key columns cannot hold") from None


def _refuse_orphans(engines: Mapping[str, sa.Engine], tables: list[tuple[TableSpec, TableEntry]], deletions: list[list[tuple]],
                    org_id: str) -> None:
    """Refuse, before the first write, a delta that deletes a row the org's rows in the target
    still point at (through the catalog's `parents`) without deleting them too: the product's
    foreign keys would refuse it halfway on DB2 and PostgreSQL, SQLite would keep rows pointing
    at nothing. A consistent export never does; a delivery rewritten with the bucket's key may."""
    deleted = {spec.qualified: keys for (spec, _), keys in zip(tables, deletions) if keys}
    for child, _ in tables:
        going = {tuple(map(_same, key)) for key in deleted.get(child.qualified, [])}
        for column, parent in child.parents.items():
            values = sorted({key[0] for key in deleted.get(parent, [])})
            if not values:
                continue
            engine = engines[child.database]
            statement = select_referencing(table_of(child, engine), child.tenant, child.key, column, org_id)
            with database_errors(engine, f"reading {child.qualified}"), engine.connect() as connection:
                for row in looked_up(connection, statement, "parents", values):
                    if tuple(map(_same, row)) not in going:
                        raise OffboardError(
                            f"{MANIFEST_FILE}: a deletion of {parent} leaves the row {_shown_key(row)} of {child.qualified} "
                            f"pointing at it: the delivery is inconsistent; ask for a new export of the delta")


def _keys(spec: TableSpec, batch: list[list]) -> list[tuple]:
    return [tuple(row[i] for i in spec.key_positions) for row in batch]


def _same(value: object) -> bytes | str:
    """A key value as both the driver and a delivery give it: bytes, or text."""
    return value if isinstance(value, bytes) else str(value)


def _refuse_keys_of_others(connection: sa.Connection, target: sa.Table, spec: TableSpec, org_id: str, keys: list[tuple],
                           what: str) -> None:
    """Refuse a delta that names the key of another org's row: the tenant predicate of the upsert
    and the delete would leave that row alone, and the org's own change would be lost in silence."""
    statement, wanted = select_keys_of_others(target, spec.tenant, spec.key, org_id), {tuple(map(_same, key)) for key in keys}
    for row in looked_up(connection, statement, "firsts", sorted({key[0] for key in keys})):
        if tuple(map(_same, row)) in wanted:
            raise OffboardError(f"{what} names the key {_shown_key(row)}, which a row of another org holds in the target")


def _shown_key(row: tuple) -> str:
    return ", ".join(map(shown_value, row))


@contextmanager
def _left_as_it_was() -> Iterator[None]:
    """A refusal while the tables load, every transaction rolled back, says so."""
    try:
        yield
    except OffboardError as error:
        raise OffboardError(f"{error}; nothing was imported: the target is as it was") from None

