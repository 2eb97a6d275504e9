"""People the directory sync made in the target before the import are merged with the org's, never
doubled; a conflict the mapping cannot resolve changes nothing; deltas after a merge still load."""

from __future__ import annotations

import pytest

from offboard.db.export import export_org
from offboard.db.verify import verify_target
from offboard.errors import OffboardError
from offboard.fixup.report import merged_keys
from offboard.sample import mutate_org
from offboard.sample.sync import directory_sync
from tests.db.support import catalog_of, execute, fixup, load, query, snapshot

SYNCED = 3  # people of the org the directory sync made in staging already


def deliveries(sample, org):
    return sample.root / "deliveries" / org.org_id


def export(sample, org, kind="initial"):
    return export_org(catalog_of(sample), sample.sources, org.org_id, deliveries(sample, org), kind).folder


@pytest.fixture
def synced(sample, org):
    """Staging with profiles and community members of the org's first people made by the sync, then the initial import."""
    people = [user for user in org.users[:-1] if not user.home_org][:SYNCED]
    directory_sync(sample, catalog_of(sample), org, "staging", people)
    load(sample, org, export(sample, org))
    return people


def persons(sample, org):
    return query(sample, "staging", "PEOPLEDB", 'SELECT "PROF_GUID", "PROF_KEY" FROM "EMPLOYEE" WHERE "TENANT_KEY" = :org',
                 org=org.target_org_id)


def test_people_the_sync_made_are_merged_not_doubled(sample, org, synced):
    theirs = dict(persons(sample, org))
    before = snapshot(sample, "staging")

    report = fixup(sample, org)

    merged = {(m.table, m.person) for m in report.merged}
    assert merged == {(table, user.target_id) for user in synced for table in ("EMPINST.EMPLOYEE", "SNCOMM.MEMBERPROFILE")}
    guids = [guid for guid, _ in persons(sample, org)]
    assert len(guids) == len(set(guids)) == len(org.users)  # one profile per person, the unique index holds
    after = dict(persons(sample, org))
    assert all(after[user.target_id] == theirs[user.target_id] for user in synced)  # the target's row stands for the person
    removed = [m.removed for m in report.merged if m.table == "EMPINST.EMPLOYEE"]
    photos = query(sample, "staging", "PEOPLEDB", 'SELECT "PROF_KEY" FROM "PHOTO" WHERE "TENANT_KEY" = :org', org=org.target_org_id)
    assert not {key for (key,) in photos} & set(removed)  # what pointed at the org's row points at the target's
    assert sum(m.repointed for m in report.merged) > 0
    other = sample.orgs[0].target_org_id
    assert [r for t, rows in snapshot(sample, "staging").items() for r in rows if other in r] == \
        [r for t, rows in before.items() for r in rows if other in r]
    result = verify_target(catalog_of(sample), deliveries(sample, org) / "initial", sample.targets["staging"], org_id=org.org_id,
                           target_org_id=org.target_org_id, fixup_report=report)
    assert result.ok, result.failures

    again = fixup(sample, org)
    assert again.changed_rows == 0 and not again.merged


def refused_with(sample, org, folder, pairs, message):
    """The fix-up with a mapping of `pairs` (cloud id, target id) is refused with `message` and changes nothing."""
    mapping = folder / "users.csv"
    mapping.write_text("cloud_id,target_id,email\n" + "".join(f"{cloud},{target},x@y\n" for cloud, target in pairs))
    before = snapshot(sample, "staging")
    with pytest.raises(OffboardError, match=message):
        fixup(sample, org, mapping=mapping)
    assert snapshot(sample, "staging") == before


@pytest.mark.one_engine
def test_a_conflict_the_mapping_cannot_resolve_changes_nothing(sample, org, synced, tmp_path):
    first, second = [user for user in org.users if not user.home_org][:2]
    refused_with(sample, org, tmp_path, [(first.cloud_id, first.target_id), (second.cloud_id, first.target_id)],
                 rf"cannot be mapped onto the target's: EMPINST.EMPLOYEE: {first.cloud_id} and {second.cloud_id} are both mapped "
                 rf"to {first.target_id}.*nothing was changed")


def test_a_delta_after_a_merge_loads_onto_the_target_s_people(sample, org, synced):
    report = fixup(sample, org)
    mutate_org(sample.root, org.org_id, seed=3)

    load(sample, org, export(sample, org, "delta"), merged=merged_keys(report.merged))

    again = fixup(sample, org)
    guids = [guid for guid, _ in persons(sample, org)]
    assert len(guids) == len(set(guids))
    result = verify_target(catalog_of(sample), deliveries(sample, org) / "delta-1", sample.targets["staging"], org_id=org.org_id,
                           target_org_id=org.target_org_id, fixup_report=again.model_copy(update={"merged": report.merged}))
    assert result.ok, result.failures


@pytest.mark.one_engine
def test_a_merged_person_who_leaves_before_the_delta_is_deleted_in_step(sample, org, synced):
    report = fixup(sample, org)
    leaver = synced[0]
    [(key,)] = query(sample, "source", "PEOPLEDB", 'SELECT "PROF_KEY" FROM "EMPLOYEE" WHERE "PROF_GUID" = :id', id=leaver.cloud_id)
    catalog = catalog_of(sample)
    for spec in catalog.tables():  # the person and every row of Profiles pointing at them leave the cloud
        columns = [column for column, parent in spec.parents.items() if parent == "EMPINST.EMPLOYEE"]
        if columns:
            execute(sample, "source", "PEOPLEDB", f'DELETE FROM "{spec.name}" WHERE ' + " OR ".join(f'"{c}" = :key' for c in columns), key=key)
    execute(sample, "source", "PEOPLEDB", 'DELETE FROM "EMPLOYEE" WHERE "PROF_KEY" = :key', key=key)

    load(sample, org, export(sample, org, "delta"), merged=merged_keys(report.merged))

    again = fixup(sample, org)
    result = verify_target(catalog, deliveries(sample, org) / "delta-1", sample.targets["staging"], org_id=org.org_id,
                           target_org_id=org.target_org_id, fixup_report=again.model_copy(update={"merged": report.merged}))
    assert [f.table for f in result.failures] == [], result.failures


@pytest.mark.one_engine
def test_what_the_target_s_person_lacks_is_filled_from_the_org_s_and_what_differs_is_reported(sample, org, synced):
    person = synced[0]
    execute(sample, "staging", "PEOPLEDB", 'UPDATE "EMPLOYEE" SET "PROF_DESCRIPTION" = NULL, "PROF_DISPLAY_NAME" = :name '
            'WHERE "PROF_GUID" = :id', name="From the directory", id=person.target_id)
    [(about,)] = query(sample, "source", "PEOPLEDB", 'SELECT "PROF_DESCRIPTION" FROM "EMPLOYEE" WHERE "PROF_GUID" = :id', id=person.cloud_id)

    report = fixup(sample, org)

    [merge] = [m for m in report.merged if m.table == "EMPINST.EMPLOYEE" and m.person == person.target_id]
    assert "PROF_DESCRIPTION" in merge.filled and "PROF_DISPLAY_NAME" in merge.differed
    [(kept_about, name)] = query(sample, "staging", "PEOPLEDB", 'SELECT "PROF_DESCRIPTION", "PROF_DISPLAY_NAME" FROM "EMPLOYEE" '
                                 'WHERE "PROF_GUID" = :id', id=person.target_id)
    assert name == "From the directory" and kept_about and "collabserv.com" not in kept_about
    assert about is None or len(kept_about) >= len(about) - 40  # the org's "About me", its links pointing at the MSP


@pytest.mark.one_engine
def test_an_id_of_another_org_s_person_is_never_mapped_into_this_org(sample, org, synced, tmp_path):
    other = sample.orgs[0]
    stranger = other.users[0]
    directory_sync(sample, catalog_of(sample), other, "staging", [stranger], seed=1)
    ours = [user for user in org.users if not user.home_org][-2]
    refused_with(sample, org, tmp_path, [(ours.cloud_id, stranger.target_id)],
                 f"{stranger.target_id} is a person of org {other.target_org_id} in the target")


@pytest.mark.one_engine
def test_a_guest_the_mapping_names_is_a_question_not_a_mapping(sample, org, synced, tmp_path):
    guest = next(user for user in org.users if user.home_org)
    refused_with(sample, org, tmp_path, [(guest.cloud_id, guest.target_id)],
                 f"{guest.cloud_id} is a guest from another org in the delivery, yet the user mapping maps it")
