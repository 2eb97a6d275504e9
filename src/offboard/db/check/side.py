"""One side's databases against the catalog: tables it neither moves nor excludes, catalogued
tables and columns missing, types, live columns it leaves out, keys, and the release recorded
(the package's docstring says what of it blocks, and why)."""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from offboard.db.catalog import DatabaseSpec, TableSpec
from offboard.db.check.live import LiveColumn, LiveDatabase, LiveTable, read_tables, unique_sets
from offboard.db.check.model import BLOCKS, NOTE, Side
from offboard.db.check.type_text import catalog_type_text, type_verdict
from offboard.db.connect import database_errors


def filled_statement(table: LiveTable, tenant: str, columns: list[LiveColumn]) -> sa.Select:
    """Per column, how many of the org's rows hold a value in it (SUM(CASE ...), not COUNT: DB2
    refuses a LOB in some aggregates, and these may be LOBs); binds `org`."""
    t = sa.table(table.name, *(sa.column(name) for name in dict.fromkeys([tenant, *(c.name for c in columns)])),
                 schema=table.schema)
    zero, one = sa.literal_column("0", sa.INTEGER), sa.literal_column("1", sa.INTEGER)  # DB2 cannot type a bare marker there
    return sa.select(*(sa.func.sum(sa.case((t.c[c.name].is_(None), zero), else_=one)) for c in columns)).where(
        t.c[tenant] == sa.bindparam("org"))


def release_statement(schema: str | None, table: str, column: str, where: Mapping[str, str] | None = None) -> sa.Select:
    """The values of the column where a database records its schema release; with `where` (column
    -> value, names as SQL names them) only of the release's row of a name/value table, each
    value bound as a parameter."""
    where = where or {}
    t = sa.table(table, *(sa.column(name) for name in dict.fromkeys([column, *where])), schema=schema)
    return sa.select(t.c[column]).distinct().where(
        *(t.c[name] == sa.bindparam(f"release_{number}", value, type_=sa.String()) for number, (name, value) in enumerate(where.items())))


def schemas(spec: DatabaseSpec) -> list[str]:
    """Every schema the catalog names for a database: its tables', its exclusions', its release's."""
    names = [spec.schema_name, *(table.schema_name for table in spec.tables.values()),
             *(name.split(".")[0] for name in spec.excluded), *([spec.release.table.split(".")[0]] if spec.release else [])]
    return list(dict.fromkeys(names))


def known_tables(spec: DatabaseSpec) -> set[str]:
    """SCHEMA.TABLE of every table the catalog names for a database: moved, excluded, or its release's."""
    return {table.qualified for table in spec.tables.values()} | set(spec.excluded) | ({spec.release.table} if spec.release else set())


def check_database(side: Side, name: str, spec: DatabaseSpec, engine: Engine, org_id: str | None,
                   known: set[str] | None = None) -> LiveDatabase:
    """Compare one Connections database of a side with the catalog; what it holds, for the drift."""
    sqlite = engine.dialect.name == "sqlite"
    live = LiveDatabase(engine.dialect.name)
    with database_errors(engine, f"reading the schema of {name}"), engine.connect() as connection:
        inspector = sa.inspect(connection)
        present = {schema: {table.upper(): table for table in inspector.get_table_names(schema=None if sqlite else schema)}
                   for schema in ([None] if sqlite else schemas(spec))}

        def found(qualified: str) -> tuple[str | None, str] | None:
            schema, _, table = qualified.partition(".")
            schema = None if sqlite else schema
            return (schema, present[schema][table]) if table in present.get(schema, {}) else None

        _unknown_tables(side, name, spec, present, sqlite, known if known is not None else known_tables(spec))
        wanted = [*(table.qualified for table in spec.tables.values()), *([spec.release.table] if spec.release else [])]
        places = {qualified: found(qualified) for qualified in wanted}
        read: dict[tuple[str | None, str], LiveTable] = {}
        for schema in dict.fromkeys(where[0] for where in places.values() if where):
            names = list(dict.fromkeys(where[1] for where in places.values() if where and where[0] == schema))
            read.update(((schema, table), live_table) for table, live_table in read_tables(connection, inspector, schema, names).items())
        for table in spec.tables.values():
            where = places[table.qualified]
            if where is None or where not in read:
                side.add(BLOCKS, "missing-table", "missing: the catalog moves this table", name, table.qualified)
                continue
            live.tables[table.qualified] = read[where]
            side.result.tables += 1
            _compare_table(side, name, table, read[where], connection, inspector, org_id)
        if spec.release:
            where = places[spec.release.table]
            live.release = _read_release(side, name, spec, connection, read.get(where) if where else None)
    return live


def _unknown_tables(side: Side, name: str, spec: DatabaseSpec, present: dict, sqlite: bool, known: set[str]) -> None:
    """`known`: the tables the whole catalog names (on PostgreSQL one database may hold several
    Connections databases' schemas); on SQLite, where each is a file of its own, this database's."""
    if sqlite:  # one file per database, its tables without a schema
        known = {qualified.partition(".")[2] for qualified in known_tables(spec)}
    for schema, tables in present.items():
        for upper in tables:
            if (upper if sqlite else f"{schema}.{upper}") in known:
                continue
            qualified = f"{spec.schema_name}.{upper}" if sqlite else f"{schema}.{upper}"
            if side.is_source:
                side.add(BLOCKS, "unknown-table", "neither moved nor excluded by the catalog: its rows would be left behind "
                                                  "(move it, or add it to `excluded` with the reason)", name, qualified)
            else:
                side.add(NOTE, "unknown-table", "neither moved nor excluded by the catalog: nothing of the org is written "
                                                "there", name, qualified)


def _compare_table(side: Side, name: str, spec: TableSpec, live: LiveTable, connection: sa.Connection,
                   inspector: sa.Inspector, org_id: str | None) -> None:
    dialect = connection.dialect
    for column in spec.columns:
        found = live.columns.get(column)
        if found is None:
            side.add(BLOCKS, "missing-column", "missing: the catalog moves this column", name, spec.qualified, column)
            continue
        expected = catalog_type_text(spec, column, dialect)
        verdict = type_verdict(expected, found.type_text, widening_blocks=side.is_source)
        if verdict:
            severity, why = verdict
            said = expected if expected == spec.columns[column] else f"{expected} ({spec.columns[column]})"  # the engine's words, and DB2's
            side.add(severity, "type", f"is {found.type_text}, the catalog says {said}: {why}",
                     name, spec.qualified, column)
    left_out = [column for upper, column in live.columns.items() if upper not in spec.columns]
    if left_out:
        _left_out(side, name, spec, live, left_out, connection, org_id)
    _compare_key(side, name, spec, live, inspector)


def _left_out(side: Side, name: str, spec: TableSpec, live: LiveTable, columns: list[LiveColumn],
              connection: sa.Connection, org_id: str | None) -> None:
    if side.is_source:
        verdicts = [(BLOCKS, f", not moved by the catalog, and {count} of the org's rows hold a value in it: that data would be "
                             "left behind") if count else
                    (NOTE, f", not moved by the catalog; {'NULL in every row of the org' if count is not None else 'not counted'}")
                    for count in _filled(spec, live, columns, connection, org_id)]
    else:
        verdicts = [(BLOCKS, " NOT NULL without a default, and the catalog does not move it: every insert of the org's rows "
                             "would fail") if not column.nullable and not column.has_default else
                    (NOTE, f", not moved: the org's rows get {'its default' if column.has_default else 'NULL'}") for column in columns]
    for column, (severity, why) in zip(columns, verdicts):  # each `why` goes on from the column's type
        side.add(severity, "left-out-column", f"{column.type_text}{why}", name, spec.qualified, column.name.upper())


def _filled(spec: TableSpec, live: LiveTable, columns: list[LiveColumn], connection: sa.Connection,
            org_id: str | None) -> list[int | None]:
    """Per column, how many of the org's source rows hold a value in it; None: not counted (no
    tenant column to count the org's rows by)."""
    tenant = live.columns[spec.tenant].name if spec.tenant in live.columns else None
    if tenant is None or org_id is None:
        return [None] * len(columns)
    # SUM over no rows is NULL: the org has none here
    return [value or 0 for value in connection.execute(filled_statement(live, tenant, columns), {"org": org_id}).one()]


def _compare_key(side: Side, name: str, spec: TableSpec, live: LiveTable, inspector: sa.Inspector) -> None:
    key = frozenset(spec.key)
    accepted = (key, key | {spec.tenant})
    if live.key in accepted or any(unique in accepted for unique in unique_sets(inspector, live)):
        return
    said = ", ".join(spec.key)
    message = (f"primary key ({', '.join(sorted(live.key))}), the catalog says ({said})" if live.key
               else f"no primary key or unique index on ({said}), the catalog's key")
    side.add(BLOCKS, "key", f"{message}: rows are matched by the catalog's key in a delta, an upsert and a delete",
             name, spec.qualified)


def _read_release(side: Side, name: str, spec: DatabaseSpec, connection: sa.Connection, table: LiveTable | None) -> list[str] | None:
    """The release values a database records: of the release's row alone where the catalog names
    one (`where`), else of the whole column. None, and a note, where the table or a column is missing."""
    release = spec.release
    missing = "missing: the catalog says the schema release is recorded here; releases not compared (the columns are)"
    if table is None:
        side.add(NOTE, "release", missing, name, release.table)
        return None
    absent = [column for column in (release.column, *release.where) if column not in table.columns]
    if absent:
        side.add(NOTE, "release", missing, name, release.table, absent[0])
        return None
    where = {table.columns[column].name: value for column, value in release.where.items()}
    values = connection.execute(release_statement(table.schema, table.name, table.columns[release.column].name, where)).scalars()
    return sorted({str(value).strip() for value in values if value is not None})
