"""What a database holds of some tables: their columns with their types as text, nullability
and defaults, their primary keys and unique column sets, as exactly as the engine tells them.

Tables are read through SQLAlchemy's inspector (on DB2 ibm_db_sa reads the system catalog; on
SQLite each Connections database is a file of its own, its tables without a schema). Where
reflection loses a type, the declared one is read: SQLite maps a declared type it does not know
(BINARY(16)) to an affinity (NUMERIC), so its declared text is read from PRAGMA table_info;
ibm_db_sa reflects CHAR(n) FOR BIT DATA as CHAR(n) and LOBs without their length, so on DB2
SYSCAT.COLUMNS gives the code page (0: bit data), LOB lengths and timestamp precision.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from offboard.db.check.type_text import db2_type_text, normalise


@dataclass(frozen=True)
class LiveColumn:
    name: str  # as reflected: what SQL names it by
    type_text: str  # normalised (offboard.db.check.type_text.normalise)
    nullable: bool
    has_default: bool


@dataclass
class LiveTable:
    name: str  # as reflected
    schema: str | None  # None on SQLite
    columns: dict[str, LiveColumn]  # upper-case name -> column, in table order
    key: frozenset[str]


@dataclass
class LiveDatabase:
    dialect: str
    tables: dict[str, LiveTable] = field(default_factory=dict)  # catalogued SCHEMA.TABLE -> what the database holds
    release: list[str] | None = None


_SYSCAT_COLUMNS = sa.table("COLUMNS", sa.column("TABSCHEMA"), sa.column("TABNAME"), sa.column("COLNAME"),
                           sa.column("TYPENAME"), sa.column("LENGTH"), sa.column("SCALE"), sa.column("CODEPAGE"),
                           schema="SYSCAT")


def db2_columns_statement() -> sa.Select:
    """The columns of a schema's tables as DB2's catalog view holds them (names in their stored,
    upper case); binds `schema`."""
    c = _SYSCAT_COLUMNS.c
    return sa.select(c.TABNAME, c.COLNAME, c.TYPENAME, c.LENGTH, c.SCALE, c.CODEPAGE).where(c.TABSCHEMA == sa.bindparam("schema"))


def declared_types(connection: sa.Connection, schema: str | None, reflected: dict[str, list[dict]]) -> dict[str, dict[str, str]]:
    """Table -> upper-case column name -> normalised live type, as exactly as the engine tells it."""
    dialect = connection.dialect
    if dialect.name == "sqlite":
        quote = dialect.identifier_preparer.quote
        return {table: {row[1].upper(): normalise(row[2] or "BLOB") for row in connection.exec_driver_sql(f"PRAGMA table_info({quote(table)})")}
                for table in reflected}
    db2: dict[tuple[str, str], tuple] = {}
    if dialect.name == "ibm_db_sa":  # one query per schema
        db2 = {(row[0].upper(), row[1].upper()): row[2:] for row in connection.execute(db2_columns_statement(), {"schema": (schema or "").upper()})}
    texts: dict[str, dict[str, str]] = {}
    for table, columns in reflected.items():
        texts[table] = {}
        for column in columns:
            upper, row = column["name"].upper(), db2.get((table.upper(), column["name"].upper()))
            try:
                texts[table][upper] = (db2_type_text(column["type"], row[0], int(row[1]), int(row[2] or 0), int(row[3] or 0), dialect)
                                       if row else normalise(column["type"].compile(dialect=dialect)))
            except sa.exc.CompileError:  # a type SQLAlchemy reflects but cannot name
                texts[table][upper] = "UNKNOWN"
    return texts


def _has_default(column: Mapping[str, Any]) -> bool:
    return (column.get("default") is not None or bool(column.get("identity")) or bool(column.get("computed"))
            or column.get("autoincrement") is True)


def read_tables(connection: sa.Connection, inspector: sa.Inspector, schema: str | None, names: list[str]) -> dict[str, LiveTable]:
    """What the database holds of some tables of one schema (names as reflected), read a schema at
    a time where the dialect can (PostgreSQL), a table at a time where it cannot."""
    if not names:
        return {}
    columns = {name: found for (_, name), found in inspector.get_multi_columns(schema=schema, filter_names=names).items()}
    keys = {name: found for (_, name), found in inspector.get_multi_pk_constraint(schema=schema, filter_names=names).items()}
    types = declared_types(connection, schema, columns)
    tables = {}
    for name, reflected in columns.items():
        tables[name] = LiveTable(name, schema, {
            column["name"].upper(): LiveColumn(column["name"], types[name].get(column["name"].upper(), "UNKNOWN"),
                                               bool(column["nullable"]), _has_default(column)) for column in reflected},
            frozenset(column.upper() for column in (keys.get(name) or {}).get("constrained_columns") or []))
    return tables


def unique_sets(inspector: sa.Inspector, table: LiveTable) -> list[frozenset[str]]:
    """The column sets a table's unique constraints and unique indexes enforce (upper-case names)."""
    sets = [constraint["column_names"] for constraint in inspector.get_unique_constraints(table.name, schema=table.schema)]
    sets += [index["column_names"] for index in inspector.get_indexes(table.name, schema=table.schema) if index.get("unique")]
    return [frozenset(name.upper() for name in names) for names in sets if names and None not in names]
