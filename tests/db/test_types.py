"""Every type a Connections database uses, byte-exact from source to target, on both engines.

A table of its own holds one column of each type; one org of three goes through export,
import, a delta (a changed photo, a new row, a deleted row by its binary key) and verify.
"""

from __future__ import annotations

import decimal
import secrets
from datetime import date, datetime, time
from pathlib import Path

import pytest
import sqlalchemy as sa

from offboard.db.catalog import load_catalog
from offboard.db.connect import open_engine, table_of
from offboard.db.export import export_org
from offboard.db.load import import_delivery
from offboard.db.verify import verify_target
from offboard.errors import OffboardError
from tests.db.support import catalog_databases

ORGS = ["1001", "1002", "1003"]
TARGET_ORG = "7001"
PHOTO_MAX = 1 << 20
BODY_MAX = 256 << 10
CATALOG = f"""
format: 2
content_stores: {{}}
databases:
  TESTDB:
    application: Test
    schema: T
    tables:
      EVERY:
        tenant: ORG_ID
        key: [ID]
        columns:
          ID: CHAR(16) FOR BIT DATA
          ORG_ID: VARCHAR(20)
          NAME: VARCHAR(64)
          CODE: CHAR(4)
          META: VARCHAR(32) FOR BIT DATA
          PHOTO: BLOB(1M)
          BODY: CLOB(256K)
          SMALL: SMALLINT
          NUM: INTEGER
          BIG: BIGINT
          PRICE: DECIMAL(12,3)
          RATIO: DOUBLE
          DAY: DATE
          AT: TIME
          STAMP: TIMESTAMP
"""
NASTY = b'\x00\n\r\n",\xff\xfe\x80 photo \xc3\xa9 \xed\xa0\x80'  # NUL, line ends, quote, comma, not UTF-8


@pytest.fixture
def catalog(tmp_path):
    path = tmp_path / "catalog.yaml"
    path.write_text(CATALOG, encoding="utf-8")
    return load_catalog(path)


@pytest.fixture
def databases(server, tmp_path, catalog):
    return catalog_databases(server, tmp_path, catalog)


def _row(number: int, org: str, *, photo: bytes | None = None, body: str | None = None) -> dict:
    return {
        "ID": b"\x00" * 15 + b"\n" if (number, org) == (0, ORGS[0]) else secrets.token_bytes(16),  # a key with NUL and a line end
        "ORG_ID": org,
        "NAME": ["Jürgen Groß", "李小龍", 'a "quoted", name', ""][number % 4],
        "CODE": "ABCD",
        "META": NASTY[: number % 20 + 1],
        "PHOTO": photo if photo is not None else NASTY * (number + 1),
        "BODY": body if body is not None else f'<p>row {number}, "quoted"\r\nline é</p>',
        "SMALL": -32768 if number == 1 else number,
        "NUM": -2147483648 if number == 2 else number * 1000,
        "BIG": 9223372036854775807 if number == 3 else -number,
        "PRICE": decimal.Decimal("-123456789.125") if number == 1 else decimal.Decimal(f"{number}.500"),
        "RATIO": [0.1 + 0.2, -1.5e-300, 6.02214076e23, 0.0][number % 4],
        "DAY": date(2024, 2, 29),
        "AT": time(23, 59, 59),
        "STAMP": datetime(2024, 2, 29, 12, 30, 45, 123456),
        **({"PHOTO": None, "BODY": None, "META": None} if number == 5 else {}),
    }


def _insert(url: str, spec, rows: list[dict]) -> None:
    engine = open_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.insert(table_of(spec, engine)), rows)
    engine.dispose()


def _rows(url: str, spec, org: str) -> list[tuple]:
    engine = open_engine(url)
    table = table_of(spec, engine)
    with engine.connect() as connection:
        rows = connection.execute(sa.select(*(c for c in table.c if c.name != "ORG_ID")).where(table.c.ORG_ID == org)
                                  .order_by(table.c.ID)).all()
    engine.dispose()
    return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in rows]


def _change(url: str, spec, make) -> None:
    """Run the statement `make(table)` builds on the source."""
    engine = open_engine(url)
    with engine.begin() as connection:
        connection.execute(make(table_of(spec, engine)))
    engine.dispose()


def test_every_type_travels_byte_for_byte_with_lobs_at_their_declared_maximum(catalog, databases, tmp_path):
    spec = catalog.tables()[0]
    rows = [_row(n, org) for org in ORGS for n in range(6)]
    rows[0] |= {"PHOTO": bytes(range(256)) * (PHOTO_MAX // 256), "BODY": 'é"\r\n,' * (BODY_MAX // 6) + "x" * (BODY_MAX % 6)}
    _insert(databases["source"], spec, rows)
    delivery = export_org(catalog, {"TESTDB": databases["source"]}, ORGS[0], tmp_path / "out", "initial", chunk_rows=2)
    assert len(rows[0]["BODY"].encode()) == BODY_MAX  # é is two bytes: the CLOB is full
    lob_files = [chunk.lobs for chunk in delivery.manifest.tables[0].chunks if chunk.lobs]
    assert lob_files and all((delivery.folder / info.file).is_file() for info in lob_files)

    import_delivery(catalog, delivery.folder, {"TESTDB": databases["staging"]}, org_id=ORGS[0], target_org_id=TARGET_ORG)

    assert _rows(databases["staging"], spec, TARGET_ORG) == _rows(databases["source"], spec, ORGS[0])
    assert verify_target(catalog, delivery.folder, {"TESTDB": databases["staging"]}, org_id=ORGS[0], target_org_id=TARGET_ORG).ok
    photo = next(row for row in _rows(databases["staging"], spec, TARGET_ORG) if len(row[4] or b"") == PHOTO_MAX)[4]
    assert photo == bytes(range(256)) * (PHOTO_MAX // 256)


def test_a_delta_carries_a_changed_photo_a_new_row_and_a_deletion_by_binary_key(catalog, databases, tmp_path):
    spec = catalog.tables()[0]
    rows = [_row(n, org) for org in ORGS for n in range(6)]
    _insert(databases["source"], spec, rows)
    sources, targets = {"TESTDB": databases["source"]}, {"TESTDB": databases["staging"]}
    initial = export_org(catalog, sources, ORGS[0], tmp_path / "out", "initial")
    import_delivery(catalog, initial.folder, targets, org_id=ORGS[0], target_org_id=TARGET_ORG)

    _change(databases["source"], spec, lambda t: sa.update(t).where(t.c.ID == rows[1]["ID"]).values(PHOTO=NASTY[::-1] * 3))
    _change(databases["source"], spec, lambda t: sa.delete(t).where(t.c.ID == rows[0]["ID"]))  # the key with NUL and a line end
    _insert(databases["source"], spec, [_row(9, ORGS[0])])
    delta = export_org(catalog, sources, ORGS[0], tmp_path / "out", "delta")
    entry = delta.manifest.tables[0]
    assert (entry.rows, entry.deleted) == (2, [[rows[0]["ID"].hex()]])

    import_delivery(catalog, delta.folder, targets, org_id=ORGS[0], target_org_id=TARGET_ORG)

    assert _rows(databases["staging"], spec, TARGET_ORG) == _rows(databases["source"], spec, ORGS[0])
    assert verify_target(catalog, delta.folder, targets, org_id=ORGS[0], target_org_id=TARGET_ORG).ok


@pytest.mark.parametrize("forge, problem", [
    (lambda text: text.replace(".lob.", ".lob.1", 1), "is not the next value"),
    (lambda text: text.replace("EVERY.00001.lob", "..%2Fsecret", 1), "not the chunk's LOB file"),
])
def test_a_forged_lob_location_is_refused_and_the_target_stays_empty(catalog, databases, tmp_path, forge, problem):
    import gzip
    import hashlib
    import json

    spec = catalog.tables()[0]
    _insert(databases["source"], spec, [_row(n, ORGS[0]) for n in range(3)])
    delivery = export_org(catalog, {"TESTDB": databases["source"]}, ORGS[0], tmp_path / "out", "initial")
    chunk = delivery.manifest.tables[0].chunks[0]
    path = delivery.folder / chunk.file
    text = forge(gzip.decompress(path.read_bytes()).decode("utf-8", "surrogateescape"))
    path.write_bytes(gzip.compress(text.encode("utf-8", "surrogateescape")))
    manifest = json.loads((delivery.folder / "manifest.json").read_text())
    manifest["tables"][0]["chunks"][0] |= {"bytes": path.stat().st_size, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    (delivery.folder / "manifest.json").write_text(json.dumps(manifest))

    with pytest.raises(OffboardError, match=problem):
        import_delivery(catalog, delivery.folder, {"TESTDB": databases["staging"]}, org_id=ORGS[0], target_org_id=TARGET_ORG)
    assert _rows(databases["staging"], spec, TARGET_ORG) == []


def test_export_memory_does_not_hold_the_table_of_lobs(catalog):
    """The fetch size shrinks with the declared LOB sizes: 1 MiB + 256 KiB per row here."""
    from offboard.db.values import LOB_BATCH_BYTES, fetch_rows

    spec = catalog.tables()[0]
    assert fetch_rows(list(spec.types.values()), 5000) == LOB_BATCH_BYTES // (PHOTO_MAX + BODY_MAX)
