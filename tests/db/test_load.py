"""Load order and the org's own row: parents before children, deletions children first, and
an `ensure` table keeping the target's row (foreign keys enforced on PostgreSQL)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from offboard.db.connect import open_engine, table_of
from offboard.db.export import export_org
from offboard.db.load import KEEP, LOAD, MERGE, SKIP, import_delivery
from offboard.db.verify import verify_target
from offboard.errors import OffboardError
from tests.db.support import catalog_databases

ORG, OTHER, TARGET = "1001", "1002", "7001"
# The catalog lists the tables children first: the load order must come from `parents` and `ensure`.
CATALOG = """
format: 2
content_stores: {}
databases:
  TESTDB:
    application: Test
    schema: T
    tables:
      CHILD:
        tenant: ORG_ID
        key: [ID]
        columns: {ID: INTEGER, ORG_ID: VARCHAR(20), PARENT_ID: CHAR(16) FOR BIT DATA, NAME: VARCHAR(20)}
        parents: {PARENT_ID: T.PARENT}
      PARENT:
        tenant: ORG_ID
        key: [ID]
        columns: {ID: CHAR(16) FOR BIT DATA, ORG_ID: VARCHAR(20), NAME: VARCHAR(20)}
      ORG:
        tenant: ORG_ID
        key: [ORG_ID]
        ensure: true
        columns: {ORG_ID: VARCHAR(20), EXID: VARCHAR(40)}
"""


@pytest.fixture
def catalog(tmp_path):
    from offboard.db.catalog import load_catalog

    path = tmp_path / "catalog.yaml"
    path.write_text(CATALOG)
    return load_catalog(path)


def foreign_keys(table: sa.Table) -> list:
    """What the product's targets enforce: a child's parent, and every row's org."""
    found = [] if table.name == "ORG" else [sa.ForeignKeyConstraint(["ORG_ID"], ["T.ORG.ORG_ID"])]
    if table.name == "CHILD":
        found.append(sa.ForeignKeyConstraint(["PARENT_ID"], ["T.PARENT.ID"]))
    return found


@pytest.fixture
def databases(server, tmp_path, catalog):
    return catalog_databases(server, tmp_path, catalog, constraints=foreign_keys)


def write(url, catalog, name, statement):
    engine = open_engine(url)
    with engine.begin() as connection:
        connection.execute(statement(table_of(catalog.table(f"T.{name}"), engine)))
    engine.dispose()


def rows(url, catalog, name, org):
    engine = open_engine(url)
    table = table_of(catalog.table(f"T.{name}"), engine)
    with engine.connect() as connection:
        found = sorted(connection.execute(sa.select(table).where(table.c.ORG_ID == org)).all())
    engine.dispose()
    return found


def fill_source(url, catalog):
    for org in (ORG, OTHER):
        write(url, catalog, "ORG", lambda t: sa.insert(t).values(ORG_ID=org, EXID=f"cloud-{org}"))
        parents = [bytes([int(org[-1]), n]) * 8 for n in range(3)]
        write(url, catalog, "PARENT", lambda t: sa.insert(t).values([{"ID": p, "ORG_ID": org, "NAME": f"p{i}"} for i, p in enumerate(parents)]))
        write(url, catalog, "CHILD", lambda t: sa.insert(t).values(
            [{"ID": int(org) * 10 + n, "ORG_ID": org, "PARENT_ID": parents[n % 3], "NAME": f"c{n}"} for n in range(5)]))


def test_parents_load_first_and_a_deleted_parent_goes_after_its_children(catalog, databases, tmp_path):
    fill_source(databases["source"], catalog)
    sources, targets = {"TESTDB": databases["source"]}, {"TESTDB": databases["staging"]}
    initial = export_org(catalog, sources, ORG, tmp_path / "out", "initial")
    result = import_delivery(catalog, initial.folder, targets, org_id=ORG, target_org_id=TARGET)
    assert [(t.table, t.action) for t in result.tables] == [("T.ORG", LOAD), ("T.PARENT", LOAD), ("T.CHILD", LOAD)]

    gone = rows(databases["source"], catalog, "PARENT", ORG)[0][0]
    write(databases["source"], catalog, "CHILD", lambda t: sa.delete(t).where(t.c.PARENT_ID == gone))
    write(databases["source"], catalog, "PARENT", lambda t: sa.delete(t).where(t.c.ID == gone))
    delta = export_org(catalog, sources, ORG, tmp_path / "out", "delta")
    result = import_delivery(catalog, delta.folder, targets, org_id=ORG, target_org_id=TARGET)

    assert [(t.table, t.action, t.deleted) for t in result.tables] == [("T.ORG", SKIP, 0), ("T.PARENT", MERGE, 1), ("T.CHILD", MERGE, 2)]
    assert [row[0] for row in rows(databases["staging"], catalog, "PARENT", TARGET)] == [r[0] for r in rows(databases["source"], catalog, "PARENT", ORG)]
    assert verify_target(catalog, delta.folder, targets, org_id=ORG, target_org_id=TARGET).ok


def test_the_org_row_the_msp_made_is_kept_and_one_that_is_missing_arrives_under_the_target_org(catalog, databases, tmp_path):
    fill_source(databases["source"], catalog)
    write(databases["staging"], catalog, "ORG", lambda t: sa.insert(t).values(ORG_ID=TARGET, EXID="made-by-the-msp"))
    delivery = export_org(catalog, {"TESTDB": databases["source"]}, ORG, tmp_path / "out", "initial")

    result = import_delivery(catalog, delivery.folder, {"TESTDB": databases["staging"]}, org_id=ORG, target_org_id=TARGET)

    assert result.tables[0].action == KEEP
    assert rows(databases["staging"], catalog, "ORG", TARGET) == [(TARGET, "made-by-the-msp")]
    assert verify_target(catalog, delivery.folder, {"TESTDB": databases["staging"]}, org_id=ORG, target_org_id=TARGET).ok
    write(databases["staging"], catalog, "CHILD", lambda t: sa.delete(t))
    write(databases["staging"], catalog, "PARENT", lambda t: sa.delete(t))
    write(databases["staging"], catalog, "ORG", lambda t: sa.delete(t))

    result = import_delivery(catalog, delivery.folder, {"TESTDB": databases["staging"]}, org_id=ORG, target_org_id=TARGET)

    assert result.tables[0].action == LOAD
    assert rows(databases["staging"], catalog, "ORG", TARGET) == [(TARGET, f"cloud-{ORG}")]


def test_a_delta_deleting_a_row_others_still_point_at_is_refused_before_the_first_write(catalog, databases, tmp_path):
    """A consistent export deletes the children with their parent; one rewritten with the bucket's key may not."""
    import json

    fill_source(databases["source"], catalog)
    sources, targets = {"TESTDB": databases["source"]}, {"TESTDB": databases["staging"]}
    import_delivery(catalog, export_org(catalog, sources, ORG, tmp_path / "out", "initial").folder, targets, org_id=ORG,
                    target_org_id=TARGET)
    write(databases["source"], catalog, "CHILD", lambda t: sa.update(t).where(t.c.ID == 10010).values(NAME="changed"))
    delta = export_org(catalog, sources, ORG, tmp_path / "out", "delta")
    parent = rows(databases["staging"], catalog, "PARENT", TARGET)[0][0]
    manifest = json.loads((delta.folder / "manifest.json").read_text())
    entry = next(table for table in manifest["tables"] if table["name"] == "PARENT")
    entry.update(deleted=[[parent.hex()]], rows_total=entry["rows_total"] - 1)
    (delta.folder / "manifest.json").write_text(json.dumps(manifest))
    before = {name: rows(databases["staging"], catalog, name, TARGET) for name in ("ORG", "PARENT", "CHILD")}

    with pytest.raises(OffboardError, match=r"^manifest.json: a deletion of T.PARENT leaves the row \d+ of T.CHILD pointing at it: "
                                            "the delivery is inconsistent; ask for a new export of the delta$"):
        import_delivery(catalog, delta.folder, targets, org_id=ORG, target_org_id=TARGET)

    assert {name: rows(databases["staging"], catalog, name, TARGET) for name in ("ORG", "PARENT", "CHILD")} == before
