"""Every refusal of the import comes before the first write: one line, and the target unchanged."""

from __future__ import annotations

import gzip
import hashlib
import json

import pytest

from offboard.db.load import import_delivery
from offboard.db.manifest import MANIFEST_FILE
from offboard.errors import OffboardError
from offboard.sample import mutate_org

from .support import execute, export, load, query, snapshot


def refused(sample, org, delivery, match, target="staging"):
    before = snapshot(sample.targets[target])
    with pytest.raises(OffboardError, match=match) as caught:
        load(sample, org, delivery, target)
    assert "\n" not in str(caught.value)
    assert snapshot(sample.targets[target]) == before


def edit_manifest(folder, change):
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    change(manifest)
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest))


def a_chunk(delivery, table="BLOGS.WEBLOGENTRY"):
    return delivery.folder / delivery.manifest.table(table).chunks[0].file


def test_a_manifest_of_another_org(sample, org):
    other = sample.orgs[0]
    export(sample, other)
    refused(sample, org, "initial", f"delivery of org {other.org_id}, not of {org.org_id}")


def test_a_delivery_without_manifest_does_not_exist(sample, org):
    delivery = export(sample, org)
    (delivery.folder / MANIFEST_FILE).unlink()
    refused(sample, org, "initial", "not committed")


def test_a_chunk_whose_sha256_differs(sample, org):
    delivery = export(sample, org)
    chunk = a_chunk(delivery)
    data = bytearray(chunk.read_bytes())
    data[len(data) // 2] ^= 0xFF
    chunk.write_bytes(bytes(data))
    refused(sample, org, "initial", "WEBLOGENTRY.00001.del.gz: sha256 .* differs from the manifest")


def test_a_truncated_chunk(sample, org):
    delivery = export(sample, org)
    chunk = a_chunk(delivery)
    chunk.write_bytes(chunk.read_bytes()[:-100])
    refused(sample, org, "initial", "WEBLOGENTRY.00001.del.gz is truncated")


def test_a_corrupt_gzip_even_when_the_manifest_agrees(sample, org):
    """As if the export itself had written a broken stream: the sha256 alone would not notice."""
    delivery = export(sample, org)
    chunk = a_chunk(delivery)
    broken = gzip.compress(b'"x","y"\n' * 1000)[:-30]
    chunk.write_bytes(broken)

    def agree(manifest):
        for table in manifest["tables"]:
            for entry in table["chunks"]:
                if entry["file"].endswith("WEBLOGENTRY.00001.del.gz"):
                    entry.update(bytes=len(broken), sha256=hashlib.sha256(broken).hexdigest())

    edit_manifest(delivery.folder, agree)
    refused(sample, org, "initial", "WEBLOGENTRY.00001.del.gz: truncated gzip stream")


def test_a_table_the_target_lacks(sample, org):
    export(sample, org)
    execute(sample.targets["staging"]["HOMEPAGE"], 'DROP TABLE "BOARD_COMMENTS"')
    refused(sample, org, "initial", "has no table HOMEPAGE.BOARD_COMMENTS")


def test_a_column_the_target_lacks(sample, org):
    export(sample, org)
    execute(sample.targets["staging"]["DOGEAR"], 'ALTER TABLE "BOOKMARK" DROP COLUMN "DESCRIPTION"')
    refused(sample, org, "initial", "DOGEAR.BOOKMARK .* lacks column.* DESCRIPTION")


def test_a_database_without_target_url(sample, org):
    export(sample, org)
    urls = {name: url for name, url in sample.targets["staging"].items() if name != "FORUM"}
    with pytest.raises(OffboardError, match="no target database URL for FORUM"):
        import_delivery(sample.root / "deliveries" / "initial", urls, org_id=org.org_id, target_org_id=org.target_org_id)


def test_an_initial_import_over_other_rows_of_the_org(sample, org):
    export(sample, org)
    load(sample, org, "initial")
    execute(sample.targets["staging"]["BLOGS"], 'DELETE FROM "ROLLER_COMMENT" WHERE rowid IN (SELECT rowid FROM "ROLLER_COMMENT" LIMIT 1)')
    refused(sample, org, "initial", "BLOGS.ROLLER_COMMENT .* already holds .* rows of org")


def test_a_delta_before_the_delivery_it_follows(sample, org):
    export(sample, org)
    mutate_org(sample.root, org.org_id, seed=9)
    export(sample, org, "delta")
    refused(sample, org, "delta-1", "import the deliveries in order")


def test_a_key_taken_by_another_org_leaves_that_table_unchanged(sample, org):
    """The insert fails in the middle of the table; its transaction takes back what went in."""
    delivery = export(sample, org)
    media = delivery.manifest.table("FILES.MEDIA")
    last_row = gzip.decompress((delivery.folder / media.chunks[-1].file).read_bytes()).decode().splitlines()[-1]
    url = sample.targets["staging"]["FILES"]
    execute(url, 'INSERT INTO "MEDIA" ("ID", "ORG_ID", "TITLE") VALUES (?, ?, ?)', last_row.split(",")[0].strip('"'), "999", "theirs")
    before = query(url, 'SELECT * FROM "MEDIA"')

    with pytest.raises(OffboardError, match=r"importing FILES.MEDIA in sqlite:///\S+: UNIQUE constraint failed"):
        load(sample, org, "initial")

    assert query(url, 'SELECT * FROM "MEDIA"') == before
    loaded_before_it = query(sample.targets["staging"]["FILES"], 'SELECT COUNT(*) FROM "LIBRARY"')
    assert loaded_before_it == [(delivery.manifest.table("FILES.LIBRARY").rows_total,)]
