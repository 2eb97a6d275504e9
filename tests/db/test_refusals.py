"""Every refusal of the import comes before the first write: one line, and the target unchanged."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import re
import subprocess
import sys

import pytest

from offboard.db.delfile import DelWriter
from offboard.db.export import export_org
from offboard.db.load import import_delivery
from offboard.db.manifest import MANIFEST_FILE
from offboard.errors import OffboardError
from offboard.sample import mutate_org

from .support import catalog_of, execute, export, forge, load, query, snapshot


def refused(sample, org, delivery, match, target="staging"):
    before = snapshot(sample, target)
    with pytest.raises(OffboardError, match=match) as caught:
        load(sample, org, delivery, target)
    assert "\n" not in str(caught.value)
    assert snapshot(sample, target) == before


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
    execute(sample, "staging", "HOMEPAGE", 'DROP TABLE "BOARD_COMMENTS"')
    refused(sample, org, "initial", "has no table HOMEPAGE.BOARD_COMMENTS")


def test_a_column_the_target_lacks(sample, org):
    export(sample, org)
    execute(sample, "staging", "DOGEAR", 'ALTER TABLE "BOOKMARK" DROP COLUMN "DESCRIPTION"')
    refused(sample, org, "initial", "DOGEAR.BOOKMARK .* lacks column.* DESCRIPTION")


def test_a_database_without_target_url(sample, org):
    export(sample, org)
    urls = {name: url for name, url in sample.targets["staging"].items() if name != "FORUM"}
    with pytest.raises(OffboardError, match="no target database URL for FORUM"):
        import_delivery(catalog_of(sample), sample.root / "deliveries" / "initial", urls, org_id=org.org_id, target_org_id=org.target_org_id)


def test_an_initial_import_over_other_rows_of_the_org(sample, org):
    export(sample, org)
    load(sample, org, "initial")
    execute(sample, "staging", "BLOGS", 'DELETE FROM "ROLLER_COMMENT" WHERE "ID" = (SELECT MIN("ID") FROM "ROLLER_COMMENT")')
    refused(sample, org, "initial", "BLOGS.ROLLER_COMMENT .* already holds .* rows of org")


def test_a_delta_before_the_delivery_it_follows(sample, org):
    export(sample, org)
    mutate_org(sample.root, org.org_id, seed=9)
    export(sample, org, "delta")
    refused(sample, org, "delta-1", "import the deliveries in order")


def test_a_key_taken_by_another_org_leaves_the_whole_target_as_it_was(sample, org):
    """The insert fails in the middle of a table loaded late; the transactions take back all that went in,
    the tables loaded before it too, in every database."""
    export(sample, org)
    [(last,)] = query(sample, "source", "FILES", 'SELECT "ID" FROM "MEDIA" WHERE "ORG_ID" = :org ORDER BY "ID" DESC LIMIT 1',
                      org=org.org_id)  # loaded last: the rows before it are in when the insert fails
    execute(sample, "staging", "FILES", 'INSERT INTO "MEDIA" ("ID", "ORG_ID", "TITLE") VALUES (:id, \'999\', \'theirs\')', id=last)
    before = snapshot(sample, "staging")

    with pytest.raises(OffboardError, match=r"importing FILES.MEDIA in (sqlite|postgresql)\S+: (UNIQUE constraint failed|duplicate key).*; "
                                            "nothing was imported: the target is as it was$"):
        load(sample, org, "initial")

    assert snapshot(sample, "staging") == before  # FILES.LIBRARY, loaded before MEDIA, and every other database


def test_a_manifest_whose_org_id_is_in_other_digits(sample, org):
    delivery = export(sample, org)
    arabic = org.org_id.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))  # int() reads it as the same number
    edit_manifest(delivery.folder, lambda manifest: manifest.update(orgId=arabic))
    refused(sample, org, "initial", "orgId: String should match pattern")


# A delivery rewritten by whoever holds the bucket's key: manifest, chunks and checksums consistent.


def test_a_consistent_delivery_that_names_another_tenant_column(sample, org):
    """The rows would go in under the other org's id in the real tenant column."""
    delivery = export(sample, org)
    other = sample.orgs[0]
    tenant = catalog_of(sample).table("EMPINST.EMPLOYEE").tenant_position

    def theirs(rows):
        return [[*row[:tenant], other.target_org_id, *row[tenant + 1:]] for row in rows]

    forge(delivery.folder, "EMPINST.EMPLOYEE", lambda entry: entry.update(tenant="H_TENANT_KEY"), theirs)
    refused(sample, org, "initial", r"manifest.json: EMPINST.EMPLOYEE has tenant column H_TENANT_KEY, the catalog says TENANT_KEY$")


def test_a_consistent_delivery_with_a_table_the_catalog_does_not_name(sample, org):
    """Even one the target has."""
    delivery = export(sample, org)
    execute(sample, "staging", "PEOPLEDB",
            'CREATE TABLE "EMP_ROLE_MAP" ("ROLE_KEY" CHAR(36) PRIMARY KEY, "TENANT_KEY" VARCHAR(36), "PROF_KEY" CHAR(36), "ROLE" VARCHAR(64))')
    writer = DelWriter(delivery.folder, "EMPINST/EMP_ROLE_MAP.00001.del.gz")
    writer.write([("r1", org.org_id, "p1", "admin")])
    chunk = dataclasses.asdict(writer.close())
    role_map = {"database": "PEOPLEDB", "schema": "EMPINST", "name": "EMP_ROLE_MAP",
                "columns": {"ROLE_KEY": "CHAR(36)", "TENANT_KEY": "VARCHAR(36)", "PROF_KEY": "CHAR(36)", "ROLE": "VARCHAR(64)"},
                "tenant": "TENANT_KEY", "key": ["ROLE_KEY"], "rows": 1, "rows_total": 1, "checksum": "0" * 32,
                "chunks": [chunk], "index": chunk}
    edit_manifest(delivery.folder, lambda manifest: manifest["tables"].append(role_map))
    refused(sample, org, "initial", r"manifest.json: table EMPINST.EMP_ROLE_MAP is not in the catalog$")


def test_a_consistent_delivery_with_a_column_the_catalog_does_not_name(sample, org):
    """Even one the target has."""
    delivery = export(sample, org)
    execute(sample, "staging", "PEOPLEDB", 'ALTER TABLE "EMPLOYEE" ADD COLUMN "PROF_ROLE" VARCHAR(64)')
    forge(delivery.folder, "EMPINST.EMPLOYEE", lambda entry: entry["columns"].update(PROF_ROLE="VARCHAR(64)"),
          lambda rows: [[*row, "admin"] for row in rows])
    refused(sample, org, "initial", r"manifest.json: EMPINST.EMPLOYEE has column PROF_ROLE, which the catalog does not name$")


IMPORT_IN_A_CHILD = r"""
import json, re, sys
from pathlib import Path
from offboard.db.catalog import load_catalog
from offboard.db.load import import_delivery
from offboard.errors import OffboardError
catalog, folder, targets, org_id, target_org_id = json.loads(sys.argv[1])
try:
    import_delivery(load_catalog(Path(catalog)), Path(folder), targets, org_id=org_id, target_org_id=target_org_id)
except OffboardError as error:
    print(error)
# VmHWM: this process's own peak; ru_maxrss would carry the peak of the pytest process that forked it
print(int(re.search(r"VmHWM:\s+(\d+) kB", Path("/proc/self/status").read_text())[1]) // 1024)
"""


@pytest.mark.parametrize("piece", [b"x" * 1024, b"x" * 1023 + b"\n"], ids=["one line", "lines of a quoted field"])
def test_a_record_of_256_mib_is_refused_without_holding_it(sample, org, piece):
    """The target is left as it was, and the importing process stays far below the record's size."""
    delivery = export(sample, org)
    table = delivery.manifest.table("EMPINST.PROFILE_EXTENSIONS")
    chunk = delivery.folder / table.chunks[0].file
    with gzip.open(chunk, "wb", compresslevel=1) as out:  # written a MiB at a time
        out.write(f'"{table.key[0]}","p","{org.org_id}","v","'.encode())
        for _ in range(256):
            out.write(piece * 1024)
        out.write(b'","2024-01-02 03:04:05.000006"\n')
    data = chunk.read_bytes()
    info = {"file": table.chunks[0].file, "rows": 1, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(), "empty_strings": 0}
    forge(delivery.folder, table.qualified, lambda entry: entry.update(chunks=[info], rows=1, rows_total=1))
    before = query(sample, "staging", "PEOPLEDB", 'SELECT * FROM "PROFILE_EXTENSIONS"')

    arguments = [str(sample.catalog), str(delivery.folder), sample.targets["staging"], org.org_id, org.target_org_id]
    child = subprocess.run([sys.executable, "-c", IMPORT_IN_A_CHILD, json.dumps(arguments)], capture_output=True, text=True, check=True)

    refusal, peak_mb = child.stdout.splitlines()
    assert int(peak_mb) < 200
    assert re.match(r"PROFILE_EXTENSIONS.00001.del.gz: record 1 (is|has a field) longer than the columns of its table allow", refusal)
    assert query(sample, "staging", "PEOPLEDB", 'SELECT * FROM "PROFILE_EXTENSIONS"') == before


@pytest.mark.parametrize("column, value, problem", [
    ("PROF_DISPLAY_NAME", "é" * 200, "holds 400 bytes, more than its VARCHAR(256) can"),  # 200 characters, but DB2 counts bytes
    ("PROF_LAST_UPDATE", "yesterday", "holds 'yesterday', not a TIMESTAMP"),
    ("PROF_KEY", None, "is NULL, and it is part of the key"),  # SQLite would insert the row
], ids=["too long", "not a timestamp", "a NULL key"])
def test_a_value_its_column_cannot_hold_is_refused_on_every_engine(sample, org, column, value, problem):
    """SQLite would store it as it is; DB2 and PostgreSQL refuse it. The catalog's type decides, the same everywhere."""
    delivery = export(sample, org)
    spec = catalog_of(sample).table("EMPINST.EMPLOYEE")  # loaded right after the org's own row in EMPINST.TENANT
    position = spec.column_names.index(column)
    forge(delivery.folder, spec.qualified, rows=lambda rows: [rows[0][:position] + [value] + rows[0][position + 1:], *rows[1:]])
    with pytest.raises(OffboardError, match=rf"^EMPINST/EMPLOYEE.00001.del.gz: record 1: {column} {re.escape(problem)}; "
                                            "nothing was imported: the target is as it was$"):
        load(sample, org, "initial")
    assert query(sample, "staging", "PEOPLEDB", 'SELECT COUNT(*) FROM "EMPLOYEE"') == [(0,)]


@pytest.mark.parametrize("change", ["update", "deletion"])
def test_a_delta_naming_the_key_of_another_orgs_row_is_refused(sample, org, change):
    """The upsert and the delete carry the tenant predicate, so that row would be safe anyway; but the
    org's own change would be lost without a word. Refused, and the table left as it was."""
    other = sample.orgs[0]
    export_org(catalog_of(sample), sample.sources, other.org_id, sample.root / "deliveries" / other.org_id, "initial")
    load(sample, other, sample.root / "deliveries" / other.org_id / "initial")
    export(sample, org)
    load(sample, org, "initial")
    mutate_org(sample.root, org.org_id, seed=5)
    delta = export(sample, org, "delta")
    [(theirs,)] = query(sample, "staging", "DOGEAR", 'SELECT MIN("BOOKMARK_ID") FROM "BOOKMARK" WHERE "ORG_ID" = :org',
                        org=other.target_org_id)
    entry = delta.manifest.table("DOGEAR.BOOKMARK")
    assert entry.rows and entry.deleted, "the mutation changes and deletes bookmarks"
    if change == "update":
        forge(delta.folder, "DOGEAR.BOOKMARK", rows=lambda rows: [[theirs, *rows[0][1:]], *rows[1:]])
    else:
        forge(delta.folder, "DOGEAR.BOOKMARK", lambda found: found.update(deleted=[[theirs], *found["deleted"][1:]]))
    if change == "update":  # found while the table loads: the tables before it are taken back too
        problem, table = "DOGEAR/BOOKMARK.00001.del.gz: a record names", "; nothing was imported: the target is as it was"
    else:  # deletions are checked before the first write
        problem, table = "manifest.json: a deletion of DOGEAR.BOOKMARK names", ""
    before = snapshot(sample, "staging")
    with pytest.raises(OffboardError, match=rf"^{re.escape(problem)} the key {theirs}, which a row of another org holds in "
                                            rf"the target{table}$"):
        load(sample, org, "delta-1")
    assert snapshot(sample, "staging") == before
