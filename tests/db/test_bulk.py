"""Batches of rows into a table: executemany everywhere, COPY for PostgreSQL's initial loads."""

from __future__ import annotations

import secrets

import pytest
import sqlalchemy as sa

from offboard.db.bulk import executing, inserting
from offboard.db.connect import open_engine
from offboard.db.statements import delete_keys

HARD = ["tab\there", "back\\slash", "line\nbreak\r\n", 'a "quote",comma', "\\N", "", None, "ünï©ødé"]


@pytest.fixture
def table(server, tmp_path):
    """An empty table of its own, on the test's engine."""
    engine = open_engine(server if server else f"sqlite:///{tmp_path / 'T.db'}", create=True)
    schema = None if engine.dialect.name == "sqlite" else f"T_{secrets.token_hex(4).upper()}"
    table = sa.Table("ITEM", sa.MetaData(), sa.Column("ID", sa.VARCHAR(8), primary_key=True), sa.Column("ORG_ID", sa.VARCHAR(20)),
                     sa.Column("TEXT", sa.Text()), schema=schema)
    with engine.begin() as connection:
        if schema:
            connection.execute(sa.schema.CreateSchema(schema))
        table.create(connection)
    yield engine, table
    with engine.begin() as connection:
        table.drop(connection)
        if schema:
            connection.execute(sa.schema.DropSchema(schema))


def rows_of(engine, table):
    with engine.connect() as connection:
        return sorted(map(tuple, connection.execute(sa.select(table))))


def test_every_value_arrives_as_it_was_under_the_target_org(table):
    engine, item = table
    rows = [[str(i), "1001", text] for i, text in enumerate(HARD)]
    with engine.begin() as connection, inserting(connection, item, "ORG_ID", "2002") as write:
        write(rows)
    assert rows_of(engine, item) == sorted((str(i), "2002", text) for i, text in enumerate(HARD))


def test_a_failure_takes_back_the_whole_batch(table):
    engine, item = table
    with (pytest.raises(engine.dialect.loaded_dbapi.IntegrityError), engine.begin() as connection,
          inserting(connection, item, "ORG_ID", "2002") as write):
        write([["1", "1001", "first"]])
        write([["2", "1001", "second"], ["1", "1001", "the same key again"]])
    assert rows_of(engine, item) == []


def test_a_statement_runs_once_per_row_with_the_values_named_in_order(table):
    engine, item = table
    with engine.begin() as connection:
        with inserting(connection, item, "ORG_ID", "2002") as write:
            write([["1", "1001", "a"], ["2", "1001", "b"], ["3", "1001", "c"]])
        executing(connection, delete_keys(item, "ORG_ID", ["ID"], "2002"), ["ID"])([["1"], ["3"]])
    assert rows_of(engine, item) == [("2", "2002", "b")]


def test_texts_holding_the_marks_of_a_columns_formatting_arrive_as_well(table):
    """Such a batch goes to PostgreSQL row by row (write_row) rather than as one COPY text."""
    engine, item = table
    rows = [["1", "1001", "unit\x1fseparator"], ["2", "1001", "null\x1emark"], ["3", "1001", None]]
    with engine.begin() as connection, inserting(connection, item, "ORG_ID", "2002") as write:
        write(rows)
    assert rows_of(engine, item) == [(key, "2002", text) for key, _, text in rows]
