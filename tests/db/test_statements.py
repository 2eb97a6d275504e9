"""The statements the stages issue, compiled for DB2 (ibm_db_sa) as production runs them."""

from __future__ import annotations

import pytest
from ibm_db_sa.base import DB2Dialect
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect
from sqlalchemy.schema import CreateTable

from offboard.db.catalog import TableShape
from offboard.db.connect import compile_for, table_of
from offboard.db.statements import (
    count_org_rows,
    delete_keys,
    insert_rows,
    select_keys_of_others,
    select_locators,
    select_org_rows,
    tenant_literal,
    update_columns,
    upsert_rows,
)
from offboard.errors import OffboardError

DB2 = DB2Dialect()
MEDIA = TableShape(database="FILES", schema="FILES", name="MEDIA", tenant="ORG_ID", key=["ID"],
                   columns={"ID": "CHAR(36)", "ORG_ID": "VARCHAR(36)", "TITLE": "VARCHAR(256)", "DESCRIPTION": "CLOB(1M)",
                            "FILE_SIZE": "BIGINT", "LAST_UPDATE": "TIMESTAMP"})
MEMBER = TableShape(database="SNCOMM", schema="SNCOMM", name="MEMBER", tenant="ORG_ID", key=["COMMUNITY_UUID", "MEMBER_UUID"],
                    columns={"COMMUNITY_UUID": "CHAR(36)", "MEMBER_UUID": "CHAR(36)", "ORG_ID": "VARCHAR(36)"})


def db2(statement, column_keys=None):
    return compile_for(statement, DB2, column_keys)


def test_select_by_tenant_in_key_order():
    compiled = db2(select_org_rows(table_of(MEDIA, DB2), "ORG_ID", ["ID"]))
    assert compiled.sql.replace("\n", "").startswith('SELECT "FILES"."MEDIA"."ID", "FILES"."MEDIA"."ORG_ID"')
    assert 'FROM "FILES"."MEDIA" WHERE "FILES"."MEDIA"."ORG_ID" = ? ORDER BY "FILES"."MEDIA"."ID"' in compiled.sql.replace("\n", "")
    assert compiled.names == ("org",)
    assert db2(count_org_rows(table_of(MEDIA, DB2), "ORG_ID")).sql.replace("\n", "").endswith('WHERE "FILES"."MEDIA"."ORG_ID" = ?')


def test_select_by_locator_asks_for_every_tenant_of_some_paths():
    compiled = select_locators(table_of(MEDIA, DB2), ["TITLE"], "ORG_ID", among=True).compile(dialect=DB2)
    expanded = compiled.construct_expanded_state({"values": ["a/b", "c/d"]})
    assert expanded.statement.replace("\n", "") == ('SELECT "FILES"."MEDIA"."TITLE", "FILES"."MEDIA"."ORG_ID" FROM "FILES"."MEDIA" '
                                                   'WHERE "FILES"."MEDIA"."TITLE" IN (?, ?)')
    assert expanded.positiontup == ["values_1", "values_2"]
    every = db2(select_locators(table_of(MEDIA, DB2), ["TITLE"], "ORG_ID", among=False))
    assert every.sql.replace("\n", "") == 'SELECT "FILES"."MEDIA"."TITLE", "FILES"."MEDIA"."ORG_ID" FROM "FILES"."MEDIA"'


def test_the_keys_other_tenants_hold_are_asked_by_the_first_key_column():
    compiled = select_keys_of_others(table_of(MEMBER, DB2), "ORG_ID", MEMBER.key, "700001").compile(dialect=DB2)
    expanded = compiled.construct_expanded_state({"firsts": ["c1", "c2"]})
    assert expanded.statement.replace("\n", "") == (
        'SELECT "SNCOMM"."MEMBER"."COMMUNITY_UUID", "SNCOMM"."MEMBER"."MEMBER_UUID" FROM "SNCOMM"."MEMBER" '
        'WHERE "SNCOMM"."MEMBER"."ORG_ID" != \'700001\' AND "SNCOMM"."MEMBER"."COMMUNITY_UUID" IN (?, ?)')


def test_merge_upserts_within_the_tenant_only():
    compiled = db2(upsert_rows(table_of(MEDIA, DB2), "ORG_ID", ["ID"], "700001", "db2"))
    sql = compiled.sql
    assert sql.startswith('MERGE INTO "FILES"."MEDIA" AS t USING (VALUES (CAST(? AS CHAR(36)), CAST(? AS VARCHAR(256)), '
                          'CAST(? AS CLOB(1048576)), CAST(? AS BIGINT), CAST(? AS TIMESTAMP))) AS s ("ID", "TITLE", "DESCRIPTION", "FILE_SIZE", "LAST_UPDATE")')
    assert 'ON t."ID" = s."ID" WHEN MATCHED AND t."ORG_ID" = \'700001\' THEN UPDATE SET "TITLE" = s."TITLE", ' in sql
    assert sql.endswith('WHEN NOT MATCHED THEN INSERT ("ID", "TITLE", "DESCRIPTION", "FILE_SIZE", "LAST_UPDATE", "ORG_ID") '
                        'VALUES (s."ID", s."TITLE", s."DESCRIPTION", s."FILE_SIZE", s."LAST_UPDATE", \'700001\')')
    assert compiled.names == ("ID", "TITLE", "DESCRIPTION", "FILE_SIZE", "LAST_UPDATE")  # the tenant is never a parameter


def test_merge_on_a_composite_key_with_nothing_to_update():
    sql = db2(upsert_rows(table_of(MEMBER, DB2), "ORG_ID", MEMBER.key, "700001", "db2")).sql
    assert 'ON t."COMMUNITY_UUID" = s."COMMUNITY_UUID" AND t."MEMBER_UUID" = s."MEMBER_UUID" WHEN NOT MATCHED' in sql
    assert "WHEN MATCHED" not in sql


def test_delete_and_update_carry_the_tenant_predicate():
    delete = db2(delete_keys(table_of(MEMBER, DB2), "ORG_ID", MEMBER.key, "700001"))
    assert delete.sql == ('DELETE FROM "SNCOMM"."MEMBER" WHERE "SNCOMM"."MEMBER"."ORG_ID" = \'700001\' '
                          'AND "SNCOMM"."MEMBER"."COMMUNITY_UUID" = ? AND "SNCOMM"."MEMBER"."MEMBER_UUID" = ?')
    update = db2(update_columns(table_of(MEDIA, DB2), "ORG_ID", ["ID"], ["DESCRIPTION"], "700001"))
    assert update.sql == 'UPDATE "FILES"."MEDIA" SET "DESCRIPTION"=? WHERE "FILES"."MEDIA"."ORG_ID" = \'700001\' AND "FILES"."MEDIA"."ID" = ?'
    assert update.names == ("set_DESCRIPTION", "key_ID")


def test_insert_puts_the_target_org_in_the_tenant_column():
    compiled = db2(insert_rows(table_of(MEDIA, DB2), "ORG_ID", "700001"), ["ID", "TITLE", "DESCRIPTION", "FILE_SIZE", "LAST_UPDATE"])
    assert compiled.sql == ('INSERT INTO "FILES"."MEDIA" ("ID", "ORG_ID", "TITLE", "DESCRIPTION", "FILE_SIZE", "LAST_UPDATE") '
                            "VALUES (?, '700001', ?, ?, ?, ?)")


def test_sqlite_upserts_with_on_conflict():
    sqlite = sqlite_dialect()
    compiled = compile_for(upsert_rows(table_of(MEDIA, sqlite), "ORG_ID", ["ID"], "700001", "sqlite"), sqlite,
                           ["ID", "TITLE", "DESCRIPTION", "FILE_SIZE", "LAST_UPDATE"])
    assert compiled.sql.startswith('INSERT INTO "MEDIA" ("ID", "ORG_ID", ')
    assert 'ON CONFLICT ("ID") DO UPDATE SET "TITLE" = excluded."TITLE"' in compiled.sql
    assert compiled.sql.endswith("WHERE \"MEDIA\".\"ORG_ID\" = '700001'")


@pytest.mark.parametrize("org_id", ["٢٠٠١١١١١", "２００１１１１１"], ids=["arabic-indic", "full-width"])
def test_an_org_id_in_other_digits_never_reaches_the_sql(org_id):
    with pytest.raises(OffboardError, match="must be digits"):
        tenant_literal(org_id)


PHOTO = TableShape(database="PEOPLEDB", schema="EMPINST", name="PHOTO", tenant="TENANT_KEY", key=["PROF_KEY"],
                   columns={"PROF_KEY": "CHAR(16) FOR BIT DATA", "TENANT_KEY": "VARCHAR(36)", "META": "VARCHAR(64) FOR BIT DATA",
                            "PHOTO": "BLOB(10M)", "PRICE": "DECIMAL(9,2)", "RATIO": "DOUBLE", "DAY": "DATE", "AT": "TIME"})


def test_every_type_is_written_in_db2_words_in_the_merge_and_the_table():
    sql = db2(upsert_rows(table_of(PHOTO, DB2), "TENANT_KEY", ["PROF_KEY"], "700001", "db2")).sql
    assert sql.startswith('MERGE INTO "EMPINST"."PHOTO" AS t USING (VALUES (CAST(? AS CHAR(16) FOR BIT DATA), '
                          'CAST(? AS VARCHAR(64) FOR BIT DATA), CAST(? AS BLOB(10485760)), CAST(? AS DECIMAL(9, 2)), '
                          'CAST(? AS DOUBLE), CAST(? AS DATE), CAST(? AS TIME)))')

    ddl = " ".join(str(CreateTable(table_of(PHOTO, DB2)).compile(dialect=DB2)).split())
    assert '"PROF_KEY" CHAR(16) FOR BIT DATA NOT NULL' in ddl and '"PHOTO" BLOB(10485760)' in ddl
