"""The catalog decides a delivery's tables and their shapes: any difference is one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from offboard.db.catalog import load_catalog
from offboard.db.manifest import FORMAT, Manifest, catalogued
from offboard.errors import OffboardError

CATALOG = Path(__file__).resolve().parents[2] / "runbooks" / "catalog" / "connections.yaml"
FILE = {"file": "f.del.gz", "rows": 0, "bytes": 0, "sha256": "0" * 64}


def manifest_document(catalog) -> dict:
    """A manifest whose tables are the catalog's, as an export writes it."""
    tables = [{**spec.shape().model_dump(by_alias=True), "rows": 0, "rows_total": 0, "checksum": "0" * 32, "chunks": [], "index": FILE}
              for spec in catalog.tables()]
    return {"format": FORMAT, "orgId": "1", "delivery": "initial", "created": "2024-01-01T00:00:00Z", "tables": tables}


def employee(document) -> dict:
    return next(table for table in document["tables"] if table["name"] == "EMPLOYEE")


def test_a_delivery_like_the_catalog_gives_the_catalogs_tables_in_its_order():
    catalog = load_catalog(CATALOG)
    document = manifest_document(catalog)
    document["tables"].reverse()

    tables = catalogued(Manifest.model_validate(document), catalog, "initial/manifest.json")

    assert [spec for spec, _ in tables] == catalog.tables()
    assert all(spec.qualified == entry.qualified for spec, entry in tables)


def reorder(table):
    table["columns"] = dict(reversed(table["columns"].items()))


@pytest.mark.parametrize(("change", "problem"), [
    (lambda d: employee(d).update(tenant="H_TENANT_KEY"), "EMPINST.EMPLOYEE has tenant column H_TENANT_KEY, the catalog says TENANT_KEY"),
    (lambda d: employee(d)["columns"].update(EXTRA="CLOB(1M)"), "EMPINST.EMPLOYEE has column EXTRA, which the catalog does not name"),
    (lambda d: employee(d)["columns"].update(PROF_MAIL="CLOB(1M)"), r"EMPINST.EMPLOYEE has column PROF_MAIL as CLOB\(1M\), the catalog says VARCHAR\(256\)"),
    (lambda d: employee(d)["columns"].pop("PROF_MAIL"), r"EMPINST.EMPLOYEE lacks column\(s\) PROF_MAIL of the catalog"),
    (lambda d: reorder(employee(d)), "EMPINST.EMPLOYEE has its columns in another order than the catalog"),
    (lambda d: employee(d).update(key=["PROF_UID"]), "EMPINST.EMPLOYEE has key PROF_UID, the catalog says PROF_KEY"),
    (lambda d: employee(d).update(database="FILES"), "EMPINST.EMPLOYEE is in database FILES, the catalog says PEOPLEDB"),
    (lambda d: employee(d).update(deleted=[["a", "b"]]), r"EMPINST.EMPLOYEE deletes a key of 2 value\(s\), the catalog's key has 1"),
    (lambda d: employee(d).update(schema="EMPINST2"), "table EMPINST2.EMPLOYEE is not in the catalog"),
    (lambda d: d["tables"].remove(employee(d)), "table EMPINST.EMPLOYEE of the catalog is missing"),
    (lambda d: d["tables"].append(employee(d)), "table EMPINST.EMPLOYEE is listed twice"),
], ids=["tenant", "column", "type", "missing column", "column order", "key", "database", "deleted key", "table", "missing table", "twice"])
def test_a_delivery_that_differs_from_the_catalog_is_refused(change, problem):
    catalog = load_catalog(CATALOG)
    document = manifest_document(catalog)
    change(document)

    with pytest.raises(OffboardError, match=rf"^initial/manifest.json: {problem}$"):
        catalogued(Manifest.model_validate(document), catalog, "initial/manifest.json")
