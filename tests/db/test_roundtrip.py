"""Export from the multi-tenant source, import into staging, verify: initial and delta."""

from __future__ import annotations

import gzip

from offboard.db.catalog import CLOB_CHARS, max_chars
from offboard.db.verify import verify_target
from offboard.sample import mutate_org

from .support import catalog_of, execute, export, load, query, snapshot, tenant_rows


def verify(sample, org, delivery, target="staging", report=None):
    return verify_target(catalog_of(sample), sample.root / "deliveries" / delivery, sample.targets[target], org_id=org.org_id,
                         target_org_id=org.target_org_id, fixup_report=report)


def test_initial_round_trip_moves_every_table_of_one_org_and_nothing_else(sample, org):
    catalog = catalog_of(sample)
    delivery = export(sample, org)
    assert [t.qualified for t in delivery.manifest.tables] == [t.qualified for t in catalog.tables()]
    for spec in catalog.tables():
        source_rows = query(sample, "source", spec.database, f'SELECT COUNT(*) FROM "{spec.name}" WHERE "{spec.tenant}" = :org', org=org.org_id)[0][0]
        assert source_rows > 0, spec.qualified
        assert delivery.manifest.table(spec.qualified).rows_total == source_rows

    result = load(sample, org, "initial")

    assert {t.action for t in result.tables} == {"loaded"}
    check = verify(sample, org, "initial")
    assert check.ok, check.failures
    assert len(check.tables) == len(catalog.tables())
    # Only the org, under the MSP's org id; the other two orgs appear nowhere.
    assert set().union(*tenant_rows(sample, "staging", catalog).values()) == {org.target_org_id}
    others = [o.org_id for o in sample.orgs if o is not org]
    for chunk in delivery.folder.rglob("*.del.gz"):
        text = gzip.decompress(chunk.read_bytes()).decode()
        assert not any(other in text for other in others), chunk


def test_initial_import_again_skips_what_is_already_there(sample, org):
    export(sample, org)
    load(sample, org, "initial")
    before = snapshot(sample, "staging")

    again = load(sample, org, "initial")

    assert {t.action for t in again.tables} == {"already loaded"}
    assert snapshot(sample, "staging") == before


def test_export_again_returns_the_committed_delivery_unchanged(sample, org):
    first = export(sample, org)
    files = {p: p.read_bytes() for p in first.folder.rglob("*") if p.is_file()}

    second = export(sample, org)

    assert second.already_committed and second.manifest == first.manifest
    assert {p: p.read_bytes() for p in second.folder.rglob("*") if p.is_file()} == files


def test_delta_carries_inserts_updates_and_deletes(sample, org):
    catalog = catalog_of(sample)
    export(sample, org)
    load(sample, org, "initial")
    changes = mutate_org(sample.root, org.org_id, seed=3)

    delta = export(sample, org, "delta")

    assert delta.manifest.delivery == "delta-1" and delta.manifest.previous == "initial"
    for spec in catalog.tables():
        table = delta.manifest.table(spec.qualified)
        change = changes.get(spec.qualified)
        expected_rows = len(change.inserted) + len(change.updated) if change else 0
        assert table.rows == expected_rows, spec.qualified
        assert sorted(map(tuple, table.deleted)) == sorted(change.deleted if change else []), spec.qualified
    # An edit that left the change-time column alone is in the delta all the same.
    assert any(c.updated for q, c in changes.items() if catalog.table(q).changed)

    result = load(sample, org, "delta-1")

    assert {t.action for t in result.tables} == {"merged"}
    check = verify(sample, org, "delta-1")
    assert check.ok, check.failures
    media = catalog.table("FILES.MEDIA")
    gone = changes["FILES.MEDIA"].deleted[0][0]
    assert query(sample, "staging", "FILES", 'SELECT COUNT(*) FROM "MEDIA" WHERE "ID" = :id', id=gone) == [(0,)]
    added = changes["FILES.MEDIA"].inserted[0][0]
    assert query(sample, "staging", "FILES", f'SELECT "{media.tenant}" FROM "MEDIA" WHERE "ID" = :id', id=added) == [(org.target_org_id,)]


def test_delta_applied_twice_gives_the_same_target(sample, org):
    export(sample, org)
    load(sample, org, "initial")
    mutate_org(sample.root, org.org_id, seed=4)
    export(sample, org, "delta")
    load(sample, org, "delta-1")
    once = snapshot(sample, "staging")

    load(sample, org, "delta-1")

    assert snapshot(sample, "staging") == once


def test_second_delta_follows_the_first(sample, org):
    export(sample, org)
    load(sample, org, "initial")
    mutate_org(sample.root, org.org_id, seed=5)
    export(sample, org, "delta")
    load(sample, org, "delta-1")
    mutate_org(sample.root, org.org_id, seed=6)

    second = export(sample, org, "delta")
    load(sample, org, "delta-2")

    assert second.manifest.previous == "delta-1"
    assert verify(sample, org, "delta-2").ok


def test_production_gets_the_same_rows_as_staging(sample, org):
    export(sample, org)
    mutate_org(sample.root, org.org_id, seed=8)
    export(sample, org, "delta")
    for target in ("staging", "production"):
        load(sample, org, "initial", target)
        load(sample, org, "delta-1", target)
        assert verify(sample, org, "delta-1", target).ok


def test_values_as_long_as_the_catalog_allows_go_through(sample, org):
    """A VARCHAR(256) of 256 quotes (doubled in the file) and a CLOB of 1 MiB with line breaks."""
    spec = catalog_of(sample).table("EMPINST.PROFILE_EXTENSIONS")
    quotes = '"' * max_chars(spec.columns["PROF_VALUE"])
    clob = ('a "quoted" line,\r\nand another\n' * (CLOB_CHARS // 16))[:CLOB_CHARS]
    execute(sample, "source", "PEOPLEDB", 'UPDATE "PROFILE_EXTENSIONS" SET "PROF_VALUE" = :quotes, "PROF_EXT_VALUE" = :clob '
            'WHERE "PROF_KEY" || "PROF_PROPERTY_ID" = (SELECT MIN("PROF_KEY" || "PROF_PROPERTY_ID") FROM "PROFILE_EXTENSIONS" '
            'WHERE "TENANT_KEY" = :org)', quotes=quotes, clob=clob, org=org.org_id)
    export(sample, org)

    load(sample, org, "initial")

    found = 'SELECT COUNT(*) FROM "PROFILE_EXTENSIONS" WHERE "PROF_VALUE" = :quotes AND "PROF_EXT_VALUE" = :clob'
    assert query(sample, "staging", "PEOPLEDB", found, quotes=quotes, clob=clob) == [(1,)]
    assert verify(sample, org, "initial").ok
