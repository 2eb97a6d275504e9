"""The weeks before cut-over for one org of a sample: new rows and binaries, edits, and deletions
of rows nothing else of the org references (the source has no foreign keys to stop them)."""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from offboard.db.bulk import executing
from offboard.db.catalog import Catalog, TableSpec, load_catalog
from offboard.db.scan import org_batches
from offboard.db.statements import delete_keys, update_columns
from offboard.db.types import ColumnType
from offboard.sample.layout import SampleLayout
from offboard.sample.rows import EPOCH, TIMESTAMP, RowMaker, content_files, fit_text, is_people, plain, size_columns
from offboard.sample.tables import bindable, cached_table, insert_rows, side_connections


@dataclass
class Changes:
    """What a mutation did to one table: the keys inserted, updated and deleted."""

    inserted: list[tuple] = field(default_factory=list)
    updated: list[tuple] = field(default_factory=list)
    deleted: list[tuple] = field(default_factory=list)


def mutate_org(directory: Path, org_id: str, seed: int = 1) -> dict[str, Changes]:
    """Change one org the way the weeks before cut-over do: new rows and binaries (a new revision
    among them), edits (some that do not touch the change-time column, like an administrator's
    bulk fix; a changed photo; a new version of a binary), deletions with their binaries (an
    attachment among them) of rows nothing else of the org references. People and the org's own
    rows (ensure) stay; a list of people only gets a changed BLOB. Returns, per table, the keys
    inserted, updated and deleted."""
    layout = SampleLayout.load(directory)
    org = layout.org(org_id)
    catalog = load_catalog(layout.catalog)
    changes: dict[str, Changes] = {}
    with side_connections(layout, catalog, "source") as connections:
        used = {spec.qualified: _all_keys(connections[spec.database], spec) for spec in catalog.tables()}
        maker = RowMaker(random.Random(f"{seed}-{org_id}"), org, layout, catalog, used)
        existing = {spec.qualified: _org_rows(connections[spec.database], spec, org_id) for spec in catalog.tables()}
        referenced = _referenced(catalog, existing)
        for spec in catalog.tables():  # parents first: a new row references what is left of its parent table
            rows = existing[spec.qualified]
            maker.keys[spec.qualified] = [row[spec.key_positions[0]] for row in rows]
            if spec.ensure or not rows:
                continue
            connection = connections[spec.database]
            if not is_people(spec):
                changes[spec.qualified] = _mutate_table(connection, spec, rows, referenced[spec.qualified], maker)
            elif _blob_columns(spec):
                changes[spec.qualified] = Changes(updated=_update_rows(connection, spec, maker.rng.sample(rows, min(2, len(rows))), maker))
    return changes


def _org_rows(connection: sa.Connection, spec: TableSpec, org_id: str) -> list[tuple]:
    return [row for batch in org_batches(connection, spec, org_id) for row in batch]


def _all_keys(connection: sa.Connection, spec: TableSpec) -> set[tuple]:
    """The keys of the table's rows of every org."""
    table = cached_table(spec, connection.dialect)
    return {tuple(map(plain, row)) for row in connection.execute(sa.select(*(table.c[k] for k in spec.key)))}


def _referenced(catalog: Catalog, existing: dict[str, list[tuple]]) -> dict[str, set]:
    """Table -> the keys of its rows that a row of the org (of any table) references."""
    found: dict[str, set] = {spec.qualified: set() for spec in catalog.tables()}
    for spec in catalog.tables():
        for column, parent in spec.parents.items():
            position = spec.column_names.index(column)
            found[parent].update(plain(row[position]) for row in existing[spec.qualified] if row[position] is not None)
    return found


def _execute(connection: sa.Connection, statement: sa.Executable, values: dict[str, object]) -> None:
    executing(connection, statement, list(values))(bindable(connection, [tuple(values.values())]))


def _mutate_table(connection: sa.Connection, spec: TableSpec, existing: list[tuple], referenced: set, maker: RowMaker) -> Changes:
    rng, changes = maker.rng, Changes()
    key_of: Callable[[tuple], tuple] = lambda row: tuple(row[i] for i in spec.key_positions)  # noqa: E731
    free = [row for row in existing if plain(row[spec.key_positions[0]]) not in referenced]
    to_delete = rng.sample(free, min(len(free), max(1, len(existing) // 10), len(existing) - 1))
    gone = set(map(key_of, to_delete))
    kept = [row for row in existing if key_of(row) not in gone]
    maker.keys[spec.qualified] = [row[spec.key_positions[0]] for row in kept]  # what new rows may reference
    new_rows = maker.rows(spec, max(1, len(existing) // 8))
    insert_rows(connection, spec, new_rows)
    changes.inserted = [key_of(row) for row in new_rows]
    changes.updated = _update_rows(connection, spec, rng.sample(kept, min(len(kept), max(2, len(existing) // 8))), maker)
    for row in to_delete:
        _delete(connection, spec, row, maker)
        changes.deleted.append(key_of(row))
    return changes


def _editable_column(spec: TableSpec) -> str | None:
    """A text column a user would edit: not a key, tenant, reference to another row, or locator."""
    fixed = {spec.tenant, *spec.key, *spec.references.users, *spec.references.orgs, *spec.parents}
    if spec.content:
        fixed.update(spec.content.columns)
    # Not a CHAR(n): an id more likely, and padded to its length on DB2 and PostgreSQL, so that an
    # edit appended to it would be cut off again.
    return next((c for c, t in spec.types.items() if c not in fixed and t.kind in ("VARCHAR", "CLOB")), None)


def _update_rows(connection: sa.Connection, spec: TableSpec, rows: list[tuple], maker: RowMaker) -> list[tuple]:
    """Edit each row: its text, its first BLOB (a changed photo), its binary (a new version). The
    first edit leaves the change-time column alone, as an administrator's fix would. Returns the
    keys of the rows whose values changed."""
    edited, blobs, sizes = _editable_column(spec), _blob_columns(spec), size_columns(spec)
    updated = []
    for number, row in enumerate(rows):
        values: dict[str, object] = {}
        if edited and not is_people(spec):
            values[edited] = _edited(row[spec.column_names.index(edited)], spec.types[edited])
        if blobs:
            values[blobs[0]] = maker.blob(blobs[0], spec.types[blobs[0]])
        files = content_files(maker.catalog, maker.layout, spec, dict(zip(spec.column_names, row))) if spec.content else []
        if files and (values or sizes):  # a new version of the binary, of another size
            old = row[spec.column_names.index(sizes[0])] if sizes else None
            data = maker.rng.randbytes(maker.rng.choice([n for n in range(200, 4000, 97) if n != old]))
            (maker.layout.content_stores[spec.content.store] / files[0]).write_bytes(data)
            values.update(dict.fromkeys(sizes, len(data)))
        if not values:
            continue
        if spec.changed and number > 0:
            values[spec.changed] = (EPOCH + timedelta(days=500)).strftime(TIMESTAMP)
        statement = update_columns(cached_table(spec, connection.dialect), spec.tenant, spec.key, list(values), maker.org.org_id)
        _execute(connection, statement, {**{f"set_{c}": v for c, v in values.items()},
                                         **{f"key_{k}": row[i] for k, i in zip(spec.key, spec.key_positions)}})
        updated.append(tuple(row[i] for i in spec.key_positions))
    return updated


def _blob_columns(spec: TableSpec) -> list[str]:
    return [column for column, column_type in spec.types.items() if column_type.kind == "BLOB"]


def _edited(old: str | None, column_type: ColumnType) -> str:
    """The value with "(edited)" added, and never the same value, even when full."""
    for text in (f"{old or ''} (edited)", f"(edited) {old or ''}", "(edited)", "(edited again)"):
        if (new := fit_text(text, column_type)) != old:
            return new
    return "~"


def _delete(connection: sa.Connection, spec: TableSpec, row: tuple, maker: RowMaker) -> None:
    statement = delete_keys(cached_table(spec, connection.dialect), spec.tenant, spec.key, maker.org.org_id)
    _execute(connection, statement, {k: row[i] for k, i in zip(spec.key, spec.key_positions)})
    if spec.content:
        store = maker.layout.content_stores[spec.content.store]
        for relative in content_files(maker.catalog, maker.layout, spec, dict(zip(spec.column_names, row))):
            (store / relative).unlink(missing_ok=True)
        folder = str(row[spec.column_names.index(spec.content.folder)] or "").rstrip(" ").strip("/") if spec.content.folder else ""
        if folder and ".." not in folder.split("/"):  # the row's folder goes with its files
            shutil.rmtree(store / folder, ignore_errors=True)
