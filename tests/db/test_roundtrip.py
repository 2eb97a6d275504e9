"""Export from the multi-tenant source, import into staging, verify: initial and delta."""

from __future__ import annotations

import gzip

from offboard.db.load import KEEP, LOAD, MERGE, SKIP
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

    assert {t.action for t in result.tables} == {LOAD}
    check = verify(sample, org, "initial")
    assert check.ok, check.failures
    assert len(check.tables) == len(catalog.tables())
    # Only the org, under the MSP's org id; the other two orgs appear nowhere.
    assert set().union(*tenant_rows(sample, "staging", catalog).values()) == {org.target_org_id}
    homes = {user.home_org for user in org.users if user.home_org}  # a guest's home org travels with the guest
    others = [o.org_id for o in sample.orgs if o is not org and o.org_id not in homes]
    assert others
    for chunk in delivery.folder.rglob("*.del.gz"):
        text = gzip.decompress(chunk.read_bytes()).decode("utf-8", "surrogateescape")
        assert not any(other in text for other in others), chunk


def test_initial_import_again_skips_what_is_already_there(sample, org):
    export(sample, org)
    load(sample, org, "initial")
    before = snapshot(sample, "staging")

    again = load(sample, org, "initial")

    assert {t.action for t in again.tables} == {SKIP}
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
        deleted = [tuple(v.hex() if isinstance(v, bytes) else v for v in key) for key in (change.deleted if change else [])]
        assert sorted(map(tuple, table.deleted)) == sorted(deleted), spec.qualified
    # An edit that left the change-time column alone is in the delta all the same.
    assert any(c.updated for q, c in changes.items() if catalog.table(q).changed)
    # A changed photo, a new revision, a deleted attachment: bytes and binary keys in a delta.
    assert changes["EMPINST.PHOTO"].updated and changes["FILES.MEDIA_REVISION"].inserted
    assert changes["WIKIS.MEDIA_ADDITIONAL_FILE"].deleted

    result = load(sample, org, "delta-1")

    assert {t.action for t in result.tables if not catalog.table(t.table).ensure} == {MERGE}
    assert {t.action for t in result.tables if catalog.table(t.table).ensure} <= {SKIP, KEEP}
    check = verify(sample, org, "delta-1")
    assert check.ok, check.failures
    media = catalog.table("FILES.MEDIA")
    gone = changes["FILES.MEDIA"].deleted[0][0]
    assert query(sample, "staging", "FILES", 'SELECT COUNT(*) FROM "MEDIA" WHERE "ID" = :id', id=gone) == [(0,)]
    added = changes["FILES.MEDIA"].inserted[0][0]
    assert query(sample, "staging", "FILES", f'SELECT "{media.tenant}" FROM "MEDIA" WHERE "ID" = :id', id=added) == [(org.target_org_id,)]
    photo = 'SELECT "PROF_IMAGE" FROM "PHOTO" WHERE "PROF_KEY" = :key'
    for (key,) in changes["EMPINST.PHOTO"].updated:
        assert query(sample, "staging", "PEOPLEDB", photo, key=key) == query(sample, "source", "PEOPLEDB", photo, key=key)
    [(attachment,)] = changes["WIKIS.MEDIA_ADDITIONAL_FILE"].deleted[:1]
    assert query(sample, "staging", "WIKIS", 'SELECT COUNT(*) FROM "MEDIA_ADDITIONAL_FILE" WHERE "ID" = :id', id=attachment) == [(0,)]


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
    """A VARCHAR(1024) of quotes (doubled in the file), a BLOB(10M) and a CLOB(1M) at their
    declared sizes, with every byte that breaks naive text handling."""
    extensions, employee = catalog_of(sample).table("EMPINST.PROFILE_EXTENSIONS"), catalog_of(sample).table("EMPINST.EMPLOYEE")
    quotes = '"' * extensions.types["PROF_VALUE"].length
    blob = (bytes(range(256)) * (extensions.types["PROF_VALUE_EXTENDED"].length // 256))
    clob = 'é "quoted", line\r\n' * (employee.types["PROF_DESCRIPTION"].length // 21)
    clob += "x" * (employee.types["PROF_DESCRIPTION"].length - len(clob.encode()))
    first = 'SELECT MIN("PROF_KEY") FROM "{table}" WHERE "TENANT_KEY" = :org'
    execute(sample, "source", "PEOPLEDB", f'UPDATE "PROFILE_EXTENSIONS" SET "PROF_VALUE" = :quotes, "PROF_VALUE_EXTENDED" = :blob '
            f'WHERE "PROF_KEY" = ({first.format(table="PROFILE_EXTENSIONS")})', quotes=quotes, blob=blob, org=org.org_id)
    execute(sample, "source", "PEOPLEDB", f'UPDATE "EMPLOYEE" SET "PROF_DESCRIPTION" = :clob WHERE "PROF_KEY" = '
            f'({first.format(table="EMPLOYEE")})', clob=clob, org=org.org_id)
    assert (len(blob), len(clob.encode())) == (10 << 20, 1 << 20)
    export(sample, org)

    load(sample, org, "initial")

    found = 'SELECT COUNT(*) FROM "PROFILE_EXTENSIONS" WHERE "PROF_VALUE" = :quotes AND "PROF_VALUE_EXTENDED" = :blob'
    assert query(sample, "staging", "PEOPLEDB", found, quotes=quotes, blob=blob) == query(sample, "source", "PEOPLEDB", found,
                                                                                          quotes=quotes, blob=blob) != [(0,)]
    assert query(sample, "staging", "PEOPLEDB", 'SELECT COUNT(*) FROM "EMPLOYEE" WHERE "PROF_DESCRIPTION" = :clob', clob=clob) == [(1,)]
    assert verify(sample, org, "initial").ok
