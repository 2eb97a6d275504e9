"""Streaming one org's rows out of a table, in batches, through the DBAPI cursor."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from offboard.db.catalog import TableShape
from offboard.db.connect import compile_for, streaming_cursor, table_of
from offboard.db.digest import Checksum, row_digests
from offboard.db.statements import LOOKUP_BATCH, count_org_rows, select_org_rows
from offboard.db.values import fetch_rows, key_text

BATCH_ROWS = 5000

Progress = Callable[[str, int], None]  # (table, rows done so far), for a progress bar


def org_batches(connection: sa.Connection, shape: TableShape, org_id: str, columns: list[str] | None = None) -> Iterator[list]:
    """The org's rows (all columns in table order, or `columns`) in key order, a batch at a time."""
    statement = select_org_rows(table_of(shape, connection.engine), shape.tenant, shape.key, columns)
    compiled = compile_for(statement, connection.engine)
    rows = fetch_rows([shape.types[name] for name in columns or shape.column_names], BATCH_ROWS)  # fewer with LOBs
    cursor = streaming_cursor(connection)
    try:
        cursor.execute(compiled.sql, (org_id,))
        while batch := cursor.fetchmany(rows):
            yield batch
    finally:
        cursor.close()


def looked_up(connection: sa.Connection, statement: sa.Select, name: str, values: Sequence) -> Iterator[sa.Row]:
    """The rows of `statement` with its expanding parameter `name` taking `values`, a batch of
    LOOKUP_BATCH at a time (every engine limits the parameters of a query)."""
    for start in range(0, len(values), LOOKUP_BATCH):
        yield from connection.execute(statement, {name: values[start:start + LOOKUP_BATCH]})


def count_rows(connection: sa.Connection, shape: TableShape, org_id: str) -> int:
    compiled = compile_for(count_org_rows(table_of(shape, connection.engine), shape.tenant), connection.engine)
    return connection.exec_driver_sql(compiled.sql, (org_id,)).scalar_one()


@dataclass(frozen=True)
class State:
    rows: int
    checksum: str


def table_state(connection: sa.Connection, shape: TableShape, org_id: str, progress: Progress | None = None,
                keys: Collection[str] | None = None) -> State:
    """Row count and checksum of the org's rows in one table; with `keys`, of the rows whose key
    (as DEL text) is among them: the org's rows of a person table (offboard.db.delivered)."""
    checksum = Checksum()
    text, position = key_text(shape.types[shape.key[0]]), shape.key_positions[0]
    for batch in org_batches(connection, shape, org_id):
        if keys is not None:
            batch = [row for row in batch if text(row[position]) in keys]
        checksum.add(row_digests(shape, batch))
        if progress:
            progress(shape.qualified, checksum.rows)
    return State(checksum.rows, checksum.hexdigest())
