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
from tests.db.support import catalog_of, fixup, load, query, snapshot

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


def test_a_conflict_the_mapping_cannot_resolve_changes_nothing(sample, org, synced, tmp_path):
    first, second = [user for user in org.users if not user.home_org][:2]
    mapping = tmp_path / "users.csv"
    mapping.write_text(f"cloud_id,target_id,email\n{first.cloud_id},{first.target_id},a@x\n{second.cloud_id},{first.target_id},b@x\n")
    before = snapshot(sample, "staging")

    with pytest.raises(OffboardError, match=rf"cannot be mapped onto the target's: EMPINST.EMPLOYEE: {first.cloud_id} and {second.cloud_id} are both mapped to {first.target_id}.*nothing was changed"):
        fixup(sample, org, mapping=mapping)

    assert snapshot(sample, "staging") == before


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
