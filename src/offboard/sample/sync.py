"""What the MSP has made in a target before the org's import: the org's own rows (TENANT) and,
by its directory sync, for some of the org's people, a profile and the applications' member rows
under the target org id, with each
person's id in the new home and keys of the target's own. The fix-up merges the org's people
into these (offboard.fixup.people)."""

from __future__ import annotations

import dataclasses
import random

from offboard.db.catalog import Catalog
from offboard.sample.layout import OrgSample, SampleLayout, User
from offboard.sample.rows import RowMaker
from offboard.sample.tables import insert_rows, side_connections

SYNCED_TABLES = ("EMPINST.EMPLOYEE", "SNCOMM.MEMBERPROFILE")


def directory_sync(layout: SampleLayout, catalog: Catalog, org: OrgSample, side: str, users: list[User],
                   tables: tuple[str, ...] = SYNCED_TABLES, seed: int = 0) -> None:
    """Rows for `users` in the person tables `tables` of a target side, as the directory sync makes them."""
    in_target = OrgSample(org.target_org_id, org.target_org_id,
                          [dataclasses.replace(user, cloud_id=user.target_id, home_org=None) for user in users])
    maker = RowMaker(random.Random(seed), in_target, layout, catalog, {})
    specs = [catalog.table(qualified) for qualified in tables]
    databases = {spec.database for spec in specs}
    with side_connections(layout, catalog, side) as connections:
        for spec in catalog.tables():  # the org's own rows the MSP made first (TENANT), then its people
            if spec.ensure and spec.database in databases:
                insert_rows(connections[spec.database], spec, [maker.make(spec, in_target.users[0])])
        for spec in specs:
            insert_rows(connections[spec.database], spec, [maker.make(spec, user) for user in in_target.users])
