"""Verify says ok only when the target holds exactly the org's rows of the delivery."""

from __future__ import annotations

import json

import pytest

from offboard.db.manifest import MANIFEST_FILE
from offboard.db.verify import verify_target
from offboard.errors import OffboardError

from .support import catalog_of, execute, export, fixup, load


def verify(sample, org, report=None):
    return verify_target(catalog_of(sample), sample.root / "deliveries" / "initial", sample.targets["staging"], org_id=org.org_id,
                         target_org_id=org.target_org_id, fixup_report=report)


@pytest.fixture
def imported(sample, org):
    export(sample, org)
    load(sample, org, "initial")
    return sample


def test_an_edited_value_is_found(imported, org):
    execute(imported, "staging", "BLOGS", 'UPDATE "WEBLOGENTRY" SET "TITLE" = \'changed\' WHERE "ID" = (SELECT MIN("ID") FROM "WEBLOGENTRY")')

    result = verify(imported, org)

    assert not result.ok
    assert [(c.table, c.rows == c.expected_rows) for c in result.failures] == [("BLOGS.WEBLOGENTRY", True)]


def test_a_missing_and_an_extra_row_are_found(imported, org):
    execute(imported, "staging", "DOGEAR", 'DELETE FROM "LINK" WHERE "LINK_ID" = (SELECT MIN("LINK_ID") FROM "LINK")')
    execute(imported, "staging", "SNCOMM", 'INSERT INTO "COMMUNITY" ("COMMUNITY_UUID", "ORG_ID", "NAME") VALUES (\'x\', :org, \'extra\')',
            org=org.target_org_id)

    failures = {c.table: (c.rows, c.expected_rows) for c in verify(imported, org).failures}

    assert failures["DOGEAR.LINK"][0] == failures["DOGEAR.LINK"][1] - 1
    assert failures["SNCOMM.COMMUNITY"][0] == failures["SNCOMM.COMMUNITY"][1] + 1
    assert len(failures) == 2


def test_rows_of_other_orgs_do_not_disturb_it(imported, org):
    execute(imported, "staging", "SNCOMM", 'INSERT INTO "COMMUNITY" ("COMMUNITY_UUID", "ORG_ID", "NAME") VALUES (\'x\', \'123\', \'theirs\')')
    assert verify(imported, org).ok


def test_after_the_fixup_it_compares_with_the_fixup_report(imported, org):
    report = fixup(imported, org)

    assert not verify(imported, org).ok  # the references differ from the source now, by design
    assert verify(imported, org, report).ok
    with pytest.raises(OffboardError, match="the fix-up report is a dry run"):
        verify(imported, org, fixup(imported, org, dry_run=True))


def test_a_delivery_that_differs_from_the_catalog_is_refused(imported, org):
    """A manifest without a table would otherwise leave that table unchecked."""
    folder = imported.root / "deliveries" / "initial"
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    manifest["tables"] = [table for table in manifest["tables"] if table["name"] != "MEDIA"]
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest))

    with pytest.raises(OffboardError, match=r"manifest.json: table FILES.MEDIA of the catalog is missing$"):
        verify(imported, org)
