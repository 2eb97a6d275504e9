"""Types as text: DB2's and PostgreSQL's spellings read as the catalog's types, and a difference
blocks where data would not fit; without a database."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from ibm_db_sa.base import DB2Dialect
from sqlalchemy.dialects import postgresql

from offboard.db.catalog import TableSpec
from offboard.db.check.type_text import catalog_type_text, db2_type_text, normalise, type_verdict

TYPES = ["CHAR(36)", "VARCHAR(256)", "CHAR(16) FOR BIT DATA", "VARCHAR(64) FOR BIT DATA", "CLOB(1M)", "BLOB(10M)",
         "SMALLINT", "INTEGER", "BIGINT", "DECIMAL(10,2)", "DOUBLE", "DATE", "TIME", "TIMESTAMP"]
# What DB2's SYSCAT.COLUMNS holds for each (TYPENAME, LENGTH, SCALE, CODEPAGE), and what ibm_db_sa reflects.
DB2_ROWS = [("CHARACTER", 36, 0, 1208, sa.CHAR(36)), ("VARCHAR", 256, 0, 1208, sa.VARCHAR(256)),
            ("CHARACTER", 16, 0, 0, sa.CHAR(16)), ("VARCHAR", 64, 0, 0, sa.VARCHAR(64)), ("CLOB", 1 << 20, 0, 1208, sa.CLOB()),
            ("BLOB", 10 << 20, 0, 0, sa.BLOB()), ("SMALLINT", 2, 0, 0, sa.SMALLINT()), ("INTEGER", 4, 0, 0, sa.INTEGER()),
            ("BIGINT", 8, 0, 0, sa.BIGINT()), ("DECIMAL", 10, 2, 0, sa.DECIMAL(10, 2)), ("DOUBLE", 8, 0, 0, sa.Float()),
            ("DATE", 4, 0, 0, sa.DATE()), ("TIME", 3, 0, 0, sa.TIME()), ("TIMESTAMP", 10, 6, 0, sa.DateTime())]


def shape_with(type_text: str) -> TableSpec:
    return TableSpec.model_validate({"database": "FILES", "schema": "FILES", "name": "T", "tenant": "ORG_ID", "key": ["ID"],
                                     "columns": {"ID": "INTEGER", "ORG_ID": "VARCHAR(36)", "C": type_text}})


@pytest.mark.parametrize("type_text, row", list(zip(TYPES, DB2_ROWS)), ids=TYPES)
def test_a_db2_column_reads_as_the_catalog_type_it_is(type_text, row):
    dialect = DB2Dialect()
    typename, length, scale, codepage, reflected = row
    assert db2_type_text(reflected, typename, length, scale, codepage, dialect) == catalog_type_text(shape_with(type_text), "C", dialect)


def test_bit_data_lob_lengths_and_timestamp_precision_differ_on_db2():
    dialect = DB2Dialect()
    expected = catalog_type_text(shape_with("CHAR(16) FOR BIT DATA"), "C", dialect)
    assert db2_type_text(sa.CHAR(16), "CHARACTER", 16, 0, 1208, dialect) != expected  # text where bytes belong
    assert db2_type_text(sa.CLOB(), "CLOB", 1 << 10, 0, 1208, dialect) == "CLOB(1024)"
    assert db2_type_text(sa.DateTime(), "TIMESTAMP", 10, 3, 0, dialect) == "TIMESTAMP(3)"


def test_postgresql_spellings_normalise_to_the_catalog_types():
    dialect = postgresql.dialect()
    assert normalise("TIMESTAMP(6) WITHOUT TIME ZONE") == catalog_type_text(shape_with("TIMESTAMP"), "C", dialect)
    assert normalise("character varying(256)") == catalog_type_text(shape_with("VARCHAR(256)"), "C", dialect)
    assert normalise("DOUBLE PRECISION") == catalog_type_text(shape_with("DOUBLE"), "C", dialect)
    assert normalise("NUMERIC(10, 2)") == catalog_type_text(shape_with("DECIMAL(10,2)"), "C", dialect)


@pytest.mark.parametrize("expected, live, in_source, severity", [
    ("VARCHAR(256)", "VARCHAR(128)", False, "blocks"), ("VARCHAR(256)", "VARCHAR(512)", False, "note"),
    ("VARCHAR(256)", "VARCHAR(512)", True, "blocks"), ("VARCHAR(256)", "VARCHAR(128)", True, "note"),
    ("VARCHAR(256)", "CHAR(256)", False, "blocks"), ("CHAR(16) FOR BIT DATA", "CHAR(16)", True, "blocks"),
    ("DECIMAL(10,2)", "DECIMAL(12,2)", False, "note"), ("DECIMAL(10,2)", "DECIMAL(10,4)", False, "blocks"),
    ("TIMESTAMP", "TIMESTAMP(3)", False, "blocks"), ("TIMESTAMP", "TIMESTAMP(9)", False, "note"),
    ("CLOB(1048576)", "CLOB(2097152)", False, "note"), ("INTEGER", "BIGINT", False, "blocks"),
])
def test_a_type_difference_blocks_where_data_would_not_fit(expected, live, in_source, severity):
    assert type_verdict(expected, live, widening_blocks=in_source)[0] == severity
    assert type_verdict(expected, expected, widening_blocks=in_source) is None
