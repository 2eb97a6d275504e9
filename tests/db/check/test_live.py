"""What a database holds: on DB2 the types ibm_db_sa loses are read from SYSCAT.COLUMNS, by a
statement that compiles for DB2; without a database."""

from __future__ import annotations

import sqlalchemy as sa
from ibm_db_sa.base import DB2Dialect

from offboard.db.check.live import db2_columns_statement, declared_types


class _Db2Rows:
    """Stands in for a DB2 connection answering the SYSCAT.COLUMNS query of one schema."""

    dialect = DB2Dialect()

    def __init__(self, rows):
        self.rows, self.asked = rows, []

    def execute(self, statement, parameters):
        self.asked.append((" ".join(str(statement.compile(dialect=self.dialect)).split()), parameters))
        return self.rows


def test_the_syscat_statement_compiles_for_db2():
    assert " ".join(str(db2_columns_statement().compile(dialect=DB2Dialect())).split()) == (
        'SELECT "SYSCAT"."COLUMNS"."TABNAME", "SYSCAT"."COLUMNS"."COLNAME", "SYSCAT"."COLUMNS"."TYPENAME", '
        '"SYSCAT"."COLUMNS"."LENGTH", "SYSCAT"."COLUMNS"."SCALE", "SYSCAT"."COLUMNS"."CODEPAGE" FROM "SYSCAT"."COLUMNS" '
        'WHERE "SYSCAT"."COLUMNS"."TABSCHEMA" = ?')


def test_db2_types_are_read_from_the_system_catalog_where_ibm_db_sa_loses_them():
    connection = _Db2Rows([("MEDIA", "ID", "CHARACTER", 16, 0, 0), ("MEDIA", "BODY", "CLOB", 1 << 20, 0, 1208),
                           ("MEDIA", "TITLE", "VARCHAR", 256, 0, 1208)])
    reflected = {"media": [{"name": "id", "type": sa.CHAR(16)}, {"name": "body", "type": sa.CLOB()},
                           {"name": "title", "type": sa.VARCHAR(256)}]}  # as ibm_db_sa reflects them
    types = declared_types(connection, "FILES", reflected)
    assert types == {"media": {"ID": "CHAR(16) FOR BIT DATA", "BODY": "CLOB(1048576)", "TITLE": "VARCHAR(256)"}}
    assert connection.asked[0][1] == {"schema": "FILES"} and connection.asked[0][0].endswith('"TABSCHEMA" = ?')
