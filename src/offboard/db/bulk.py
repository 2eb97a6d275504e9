"""Batches of rows into one table, inside the caller's transaction.

A statement compiled for the engine runs once per row through the DBAPI's executemany. The
initial load of a PostgreSQL table goes through `COPY ... FROM STDIN` instead: psycopg's
executemany sends one INSERT per row, COPY streams the rows as one command, about six times
faster (benchmarks/RESULTS.md); a batch of texts goes as COPY's text, formatted a column at a
time. A failure takes back the whole table either way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from itertools import repeat

import sqlalchemy as sa

from offboard.db.connect import compile_for
from offboard.db.statements import insert_rows, upsert_rows
from offboard.db.values import NULL_MARK, SEPARATOR, joined_texts

Writer = Callable[[Sequence[Sequence]], None]
_TEXT_OR_NULL = frozenset({str, type(None)})
_COPY_ESCAPES = (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"))  # backslash first


def executing(connection: sa.Connection, statement: sa.ClauseElement, values: Sequence[str],
              column_keys: list[str] | None = None) -> Writer:
    """Runs `statement` once per row; `values` names the values of a row, in order."""
    compiled = compile_for(statement, connection.engine, column_keys=column_keys)
    pick = compiled.picker({name: i for i, name in enumerate(values)})
    cursor = connection.connection.cursor()
    return lambda rows: cursor.executemany(compiled.sql, list(map(pick, rows)))


@contextmanager
def inserting(connection: sa.Connection, table: sa.Table, tenant: str, org_id: str) -> Iterator[Writer]:
    """Inserts rows of all the table's columns in order, the tenant's value replaced by `org_id`. On
    PostgreSQL every batch goes into one COPY, which ends when the context does: the server
    stores a batch while the next one is read."""
    names = [column.name for column in table.c]
    if connection.dialect.name != "postgresql":
        yield _with_tenant(connection, insert_rows(table, tenant, org_id), names, tenant)
        return
    quote = connection.dialect.identifier_preparer
    sql = f"COPY {quote.format_table(table)} ({', '.join(map(quote.quote, names))}) FROM STDIN"
    position = names.index(tenant)
    with connection.connection.cursor().copy(sql) as stream:

        def copy(rows: Sequence[Sequence]) -> None:
            text = copy_text(rows, position, org_id)
            if text is not None:
                stream.write(text)
                return
            for row in rows:
                stream.write_row([*row[:position], org_id, *row[position + 1:]])
        yield copy


def copy_text(rows: Sequence[Sequence], tenant_position: int, org_id: str) -> str | None:
    """Rows of texts in COPY's text format, `org_id` in the tenant's place, formatted a column at a
    time (offboard.db.values.joined_texts): psycopg's write_row costs Python calls per value. None
    when a value is not text (bytes go through write_row) or holds a mark of joined_texts."""
    if not rows:
        return None
    columns = []
    for position, column in enumerate(zip(*rows)):
        if position == tenant_position:
            columns.append(repeat(org_id))
            continue
        text = joined_texts(column) if set(map(type, column)) <= _TEXT_OR_NULL else None
        if text is None:
            return None
        for special, escaped in _COPY_ESCAPES:
            text = text.replace(special, escaped)
        columns.append(text.replace(NULL_MARK, "\\N").split(SEPARATOR))
    return "\n".join(map("\t".join, zip(*columns))) + "\n"


def upserting(connection: sa.Connection, table: sa.Table, tenant: str, key: list[str], org_id: str) -> Writer:
    """Inserts or updates rows of all the table's columns in order by key, within `org_id`'s rows."""
    statement = upsert_rows(table, tenant, key, org_id, connection.dialect.name)
    return _with_tenant(connection, statement, [column.name for column in table.c], tenant)


def _with_tenant(connection: sa.Connection, statement: sa.ClauseElement, names: list[str], tenant: str) -> Writer:
    """`statement` puts the org id into the tenant column itself: the rows' own tenant values stay out."""
    return executing(connection, statement, names, [name for name in names if name != tenant])
