"""A person table's rows are the org's when a delivery holds their keys: the target's own people
(made by the directory sync) are never counted, and a delivery cannot claim them."""

from __future__ import annotations

import pytest

from offboard.db.delivered import delivered_keys
from offboard.errors import OffboardError
from offboard.sample.sync import directory_sync
from offboard.sample import mutate_org
from tests.db.support import catalog_of, export, forge, load, query, snapshot


@pytest.mark.one_engine
def test_the_keys_of_every_delivery_of_the_org_and_of_no_other(sample, org):
    other = sample.orgs[0]
    export(sample, org)
    keys = delivered_keys(catalog_of(sample), sample.root / "deliveries", org.org_id)

    employees = query(sample, "source", "PEOPLEDB", 'SELECT "PROF_KEY" FROM "EMPLOYEE" WHERE "TENANT_KEY" = :org', org=org.org_id)
    assert keys["EMPINST.EMPLOYEE"] == {key for (key,) in employees}
    assert set(keys) == {spec.qualified for spec in catalog_of(sample).tables() if spec.person}
    assert delivered_keys(catalog_of(sample), sample.root / "deliveries", other.org_id)["EMPINST.EMPLOYEE"] == set()


def test_an_initial_import_beside_the_target_s_own_people_counts_only_the_org_s(sample, org):
    people = [user for user in org.users if not user.home_org][:2]
    directory_sync(sample, catalog_of(sample), org, "staging", people)
    export(sample, org)

    result = load(sample, org, "initial")

    assert {t.table: t.rows for t in result.tables}["EMPINST.EMPLOYEE"] == len(org.users)
    rows = query(sample, "staging", "PEOPLEDB", 'SELECT COUNT(*) FROM "EMPLOYEE" WHERE "TENANT_KEY" = :org', org=org.target_org_id)
    assert rows == [(len(org.users) + len(people),)]


def test_a_delivery_claiming_a_key_of_the_target_s_own_people_is_refused(sample, org):
    people = [user for user in org.users if not user.home_org][:1]
    directory_sync(sample, catalog_of(sample), org, "staging", people)
    [(theirs,)] = query(sample, "staging", "PEOPLEDB", 'SELECT "PROF_KEY" FROM "EMPLOYEE" WHERE "TENANT_KEY" = :org', org=org.target_org_id)
    folder = export(sample, org).folder
    # Whoever holds the bucket's key renames the org's first person to the target's person's key.
    forge(folder, "EMPINST.EMPLOYEE", rows=lambda rows: [[theirs, *rows[0][1:]], *rows[1:]])
    before = snapshot(sample, "staging")

    with pytest.raises(OffboardError, match="nothing was imported: the target is as it was"):
        load(sample, org, folder)

    assert snapshot(sample, "staging") == before


@pytest.mark.one_engine
def test_a_person_row_the_index_lacks_is_refused(sample, org):
    folder = export(sample, org).folder
    forge(folder, "SNCOMM.MEMBERPROFILE", rows=lambda rows: [*rows, ["planted-key", *rows[0][1:]]],
          entry=lambda entry: entry.update(rows=entry["rows"] + 1, rows_total=entry["rows_total"] + 1))

    with pytest.raises(OffboardError, match="a row of SNCOMM.MEMBERPROFILE with key planted-key that the delivery's index lacks"):
        load(sample, org, folder)


@pytest.fixture
def synced_then_imported(sample, org):
    """The directory sync's person in staging, the org's initial delivery imported beside it, a delta exported."""
    directory_sync(sample, catalog_of(sample), org, "staging", [user for user in org.users if not user.home_org][:1])
    [(theirs,)] = query(sample, "staging", "PEOPLEDB", 'SELECT "PROF_KEY" FROM "EMPLOYEE" WHERE "TENANT_KEY" = :org', org=org.target_org_id)
    load(sample, org, export(sample, org).folder)
    mutate_org(sample.root, org.org_id, seed=5)
    return theirs, export(sample, org, "delta").folder


@pytest.mark.one_engine
def test_a_delta_deleting_the_target_s_own_person_is_refused(sample, org, synced_then_imported):
    theirs, delta = synced_then_imported
    forge(delta, "EMPINST.EMPLOYEE", entry=lambda entry: entry["deleted"].append([theirs]))
    before = snapshot(sample, "staging")

    with pytest.raises(OffboardError, match=f"deletes {theirs} of EMPINST.EMPLOYEE, which no earlier delivery of the org holds"):
        load(sample, org, delta)

    assert snapshot(sample, "staging") == before


@pytest.mark.one_engine
def test_a_delta_claiming_the_target_s_own_person_in_its_index_is_refused(sample, org, synced_then_imported):
    theirs, delta = synced_then_imported
    forge(delta, "EMPINST.EMPLOYEE", index=lambda rows: [*rows, ["0" * 32, theirs]])
    before = snapshot(sample, "staging")

    with pytest.raises(OffboardError, match=f"EMPINST.EMPLOYEE .* holds {len(org.users) + 1} rows of org"):
        load(sample, org, delta)

    assert snapshot(sample, "staging") == before
