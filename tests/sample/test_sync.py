"""The directory sync's rows in a target: the org's own row, then a profile and a member row per
person, under the target org id, with the person's id in the new home and keys of the target's."""

from __future__ import annotations

import pytest

from offboard.sample.sync import directory_sync
from tests.db.support import catalog_of, query


@pytest.mark.one_engine
def test_the_sync_makes_the_target_s_own_people(sample, org):
    people = org.users[:2]

    directory_sync(sample, catalog_of(sample), org, "production", people)

    profiles = query(sample, "production", "PEOPLEDB", 'SELECT "PROF_GUID", "PROF_UID_LOWER", "TENANT_KEY" FROM "EMPLOYEE"')
    assert sorted(profiles) == sorted((user.target_id, user.target_id.lower(), org.target_org_id) for user in people)
    members = query(sample, "production", "SNCOMM", 'SELECT "DIRECTORY_UUID", "ORG_ID" FROM "MEMBERPROFILE"')
    assert sorted(members) == sorted((user.target_id, org.target_org_id) for user in people)
    assert query(sample, "production", "PEOPLEDB", 'SELECT "TENANT_KEY" FROM "TENANT"') == [(org.target_org_id,)]
    assert query(sample, "staging", "PEOPLEDB", 'SELECT COUNT(*) FROM "EMPLOYEE"') == [(0,)]
