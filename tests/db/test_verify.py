"""Verify says ok only when the target holds exactly the org's rows of the delivery."""

from __future__ import annotations

import dataclasses
import json

import pytest

from offboard.db.manifest import MANIFEST_FILE
from offboard.db.verify import TableCheck, VerifyResult, verify_target
from offboard.errors import OffboardError
from offboard.files.verify import VerifyReport
from offboard.fixup.unmapped import open_refusal
from offboard.verify import Verification, require_equal

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
    execute(imported, "staging", "DOGEAR", 'DELETE FROM "LINK" WHERE "LINK_ID" = (SELECT MIN("LINK_ID") FROM "LINK" WHERE "LINK_ID" '
            'NOT IN (SELECT "LINK_ID" FROM "BOOKMARK" WHERE "LINK_ID" IS NOT NULL))')  # a link no bookmark holds (foreign keys)
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


def test_equal_rows_fail_while_an_unmapped_id_is_open_and_pass_once_accepted():
    equal = VerifyResult("delta-1", "700001", "fix-up report", [TableCheck("EMPINST.EMPLOYEE", 3, "c", 3, "c")])
    files = VerifyReport(deliveries=["initial", "delta-1"], expected=5, checksum=True)
    held = Verification("acme", "production", files, dataclasses.replace(equal, unmapped_open=["111", "222"], guests=1))

    assert not held.ok and held.figures()["rows_ok"] and held.figures()["unmapped_open"] == 2
    with pytest.raises(OffboardError) as refused:
        require_equal(held)
    assert str(refused.value) == open_refusal("acme", "production", ["111", "222"])

    accepted = Verification("acme", "production", files, dataclasses.replace(equal, unmapped_accepted=["111", "222"], merged=4))
    assert require_equal(accepted) | {"files": 5} == {
        "target": "production", "files": 5, "files_ok": True, "tables": 1, "rows": 3, "rows_ok": True,
        "unmapped_open": 0, "unmapped_accepted": 2, "merged": 4, "guests": 0}
    differs = dataclasses.replace(held, rows=dataclasses.replace(held.rows, tables=[TableCheck("EMPINST.EMPLOYEE", 3, "c", 2, "d")]))
    with pytest.raises(OffboardError, match=r"^production differs: 0 files missing, 0 extra, 0 different; 1 tables differ; "
                                            r"2 user ids unmapped in the last fix-up of production and not accepted \(111, 222\)"):
        require_equal(differs)
