"""Batches of rows into one table, inside the caller's transaction.

A statement compiled for the engine runs once per row through the DBAPI's executemany. The
initial load of a PostgreSQL table goes through `COPY ... FROM STDIN` instead: psycopg's
executemany sends one INSERT per row, COPY streams the batch as one command, about six times
faster (benchmarks/RESULTS.md). A failure takes back the whole table either way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sqlalchemy as sa

from offboard.db.connect import compile_for
from offboard.db.statements import insert_rows, upsert_rows

Writer = Callable[[Sequence[Sequence]], None]


def executing(connection: sa.Connection, statement: sa.ClauseElement, values: Sequence[str],
              column_keys: list[str] | None = None) -> Writer:
    """Runs `statement` once per row; `values` names the values of a row, in order."""
    compiled = compile_for(statement, connection.engine, column_keys=column_keys)
    pick = compiled.picker({name: i for i, name in enumerate(values)})
    cursor = connection.connection.cursor()
    return lambda rows: cursor.executemany(compiled.sql, list(map(pick, rows)))


def inserting(connection: sa.Connection, table: sa.Table, tenant: str, org_id: str) -> Writer:
    """Inserts rows of all the table's columns in order, the tenant's value replaced by `org_id`."""
    names = [column.name for column in table.c]
    if connection.dialect.name != "postgresql":
        return _with_tenant(connection, insert_rows(table, tenant, org_id), names, tenant)
    quote = connection.dialect.identifier_preparer
    sql = f"COPY {quote.format_table(table)} ({', '.join(map(quote.quote, names))}) FROM STDIN"
    cursor, position = connection.connection.cursor(), names.index(tenant)

    def copy(rows: Sequence[Sequence]) -> None:
        with cursor.copy(sql) as stream:
            for row in rows:
                stream.write_row([*row[:position], org_id, *row[position + 1:]])
    return copy


def upserting(connection: sa.Connection, table: sa.Table, tenant: str, key: list[str], org_id: str) -> Writer:
    """Inserts or updates rows of all the table's columns in order by key, within `org_id`'s rows."""
    statement = upsert_rows(table, tenant, key, org_id, connection.dialect.name)
    return _with_tenant(connection, statement, [column.name for column in table.c], tenant)


def _with_tenant(connection: sa.Connection, statement: sa.ClauseElement, names: list[str], tenant: str) -> Writer:
    """`statement` puts the org id into the tenant column itself: the rows' own tenant values stay out."""
    return executing(connection, statement, names, [name for name in names if name != tenant])
