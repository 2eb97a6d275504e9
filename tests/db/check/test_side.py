"""One side against the catalog: its findings' lines, the SQL of its own (compiled for DB2), and
the release it records, read from the release's row alone in a name/value table, on both engines."""

from __future__ import annotations

from ibm_db_sa.base import DB2Dialect

from offboard.db.check.live import LiveColumn, LiveTable
from offboard.db.check.side import filled_statement, release_statement
from offboard.sample.layout import SIDES
from tests.db.check.support import catalog_of, check, found, quoted, recreate, release_table, set_release, varchar_column
from tests.db.support import execute


def db2_sql(statement) -> str:
    return " ".join(str(statement.compile(dialect=DB2Dialect())).split())


def test_a_finding_is_one_line_naming_side_database_table_and_column(project, sample, org, stack):
    spec, column, length = varchar_column(catalog_of(project))
    recreate(sample, "staging", spec, {column: f"VARCHAR({length * 2})"})
    execute(sample, "source", spec.database, f'ALTER TABLE {quoted(sample, spec)} ADD COLUMN "NEVER_SET" VARCHAR(40)')
    result = check(project)
    [empty] = found(result, "note", "source", "left-out-column", spec.qualified, "NEVER_SET")
    assert empty.message == "VARCHAR(40), not moved by the catalog; NULL in every row of the org"
    [widened] = found(result, "note", "staging", "type", spec.qualified, column)
    assert widened.line() == (f"note staging: {spec.database} {spec.qualified}.{column}: is VARCHAR({length * 2}), the catalog "
                              f"says VARCHAR({length}): wider than the catalog: every value fits")
    assert result.ok


def test_the_sql_of_its_own_compiles_for_db2():
    table = LiveTable("media", "FILES", {}, frozenset())  # ibm_db_sa reflects names in lower case: unquoted, folded back
    filled = filled_statement(table, "org_id", [LiveColumn("extra", "CLOB(1048576)", True, False)])
    assert db2_sql(filled) == (
        'SELECT sum(CASE WHEN ("FILES".media.extra IS NULL) THEN 0 ELSE 1 END) AS sum_1 '
        'FROM "FILES".media WHERE "FILES".media.org_id = ?')  # no untyped marker inside CASE: DB2 refuses one
    assert db2_sql(release_statement("HOMEPAGE", "homepage_schema", "releasever")) == (
        'SELECT DISTINCT "HOMEPAGE".homepage_schema.releasever FROM "HOMEPAGE".homepage_schema')
    row = release_statement("BLOGS", "roller_properties", "value", {"name": "database.schema.version"})
    assert db2_sql(row) == ('SELECT DISTINCT "BLOGS".roller_properties."value" FROM "BLOGS".roller_properties '
                            'WHERE "BLOGS".roller_properties.name = ?')
    assert row.compile(dialect=DB2Dialect()).params == {"release_0": "database.schema.version"}  # bound, not inlined


def test_a_name_value_release_table_compares_only_the_release_row(project, sample, org, stack):
    name, spec = next(iter(catalog_of(project).databases.items()))
    qualified = f"{spec.schema_name}.OFFBOARD_PROPERTIES"
    set_release(project, sample, name, {"table": qualified, "column": "VALUE", "where": {"NAME": "database.schema.version"}})
    rows = {side: [("database.schema.version", "8.0.0"), ("instance.host", f"{side}.example.com"), ("mail.enabled", None),
                   *([("upgraded.from", "7.0.0")] if side == "source" else [])] for side in SIDES}
    where = release_table(sample, name, qualified, ["NAME", "VALUE"], rows)  # the other rows differ on every side

    result = check(project)
    assert {side: result.releases[side][name] for side in SIDES} == {side: ["8.0.0"] for side in SIDES}
    assert not [f.line() for f in result.findings if f.kind == "release" and f.database == name]
    assert result.ok, [f.line() for f in result.blocks]

    execute(sample, "staging", name, f'UPDATE {where} SET "VALUE" = :value WHERE "NAME" = :name',
            value="8.5.0", name="database.schema.version")
    result = check(project)
    [differs] = found(result, "blocks", "source/staging", "release", qualified, "VALUE")
    assert differs.message.startswith("release 8.0.0 in the source, 8.5.0 in staging: ")
    assert result.releases["production"][name] == ["8.0.0"] and not found(result, "blocks", "source/production", "release")
