"""The catalog: what the repository ships is valid, and a broken one is one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from offboard.db.catalog import load_catalog
from offboard.errors import OffboardError

CATALOG = Path(__file__).resolve().parents[2] / "runbooks" / "catalog" / "connections.yaml"
APPLICATIONS = {"Files", "Wikis", "Communities", "Blogs", "Activities", "Forums", "Homepage", "Profiles", "Bookmarks"}


def test_the_shipped_catalog_covers_the_connections_applications():
    catalog = load_catalog(CATALOG)
    assert {d.application for d in catalog.databases.values()} == APPLICATIONS
    assert set(catalog.databases) == {"FILES", "WIKIS", "SNCOMM", "BLOGS", "OPNACT", "FORUM", "HOMEPAGE", "PEOPLEDB", "DOGEAR"}
    assert set(catalog.content_stores) == {"files", "wikis", "activities", "blogs", "forums", "dogear"}
    content = {t.qualified: t.content.store for t in catalog.tables() if t.content}
    assert {"FILES.MEDIA", "FILES.MEDIA_REVISION", "WIKIS.MEDIA_ADDITIONAL_FILE", "FORUM.DF_CONTENTREF"} <= set(content)
    assert set(content.values()) == {"files", "wikis", "activities", "blogs", "forums"}  # dogear's icons: shared, no table
    kinds = {kind for t in catalog.tables() for kind in ("links", "users", "orgs") if getattr(t.references, kind)}
    assert kinds == {"links", "users", "orgs"}
    kinds = {column_type.kind for t in catalog.tables() for column_type in t.types.values()}
    assert kinds == {"CHAR", "VARCHAR", "BINARY", "VARBINARY", "CLOB", "BLOB", "SMALLINT", "INTEGER", "BIGINT", "DECIMAL",
                     "DOUBLE", "DATE", "TIME", "TIMESTAMP"}
    assert [t.qualified for t in catalog.tables() if t.ensure] == ["EMPINST.TENANT", "HOMEPAGE.MT_ORGANIZATION"]
    assert all(d.excluded and d.release for d in catalog.databases.values())
    assert catalog.table("FILES.MEDIA").types["ID"].text == "CHAR(16) FOR BIT DATA"
    assert catalog.table("SNCOMM.MEMBERPROFILE").references.users == ["DIRECTORY_UUID"]


def broken(tmp_path, change) -> Path:
    document = yaml.safe_load(CATALOG.read_text())
    change(document)
    path = tmp_path / "connections.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["databases"]["FILES"]["tables"]["MEDIA"].update(tenant="TENANT"), r"databases.FILES.tables.MEDIA: .*tenant column\(s\) TENANT not among the columns"),
        (lambda d: d["databases"]["FILES"]["tables"]["MEDIA"]["columns"].update(TITLE="NVARCHAR(10)"), "TITLE: unsupported type 'NVARCHAR"),
        (lambda d: d["databases"]["FILES"]["tables"]["MEDIA"]["columns"].update(TITLE="VARCHAR(2٥٦)"), "TITLE: unsupported type 'VARCHAR"),
        (lambda d: d["databases"]["BLOGS"]["tables"]["WEBLOGENTRY"].update(key=["ORG_ID"]), "must not be part of the key"),
        (lambda d: d["databases"]["FILES"]["tables"]["MEDIA"]["content"].update(store="nowhere"), "content store 'nowhere' is not in content_stores"),
        (lambda d: d["databases"]["FILES"]["tables"]["USER"].update(owner="x"), "databases.FILES.tables.USER.owner: unknown setting"),
        (lambda d: d["databases"]["FILES"]["tables"]["MEDIA"]["references"].update(users=["MEDIA_SIZE"]), "reference column MEDIA_SIZE must be CHAR, VARCHAR or CLOB"),
    ],
)
def test_a_broken_catalog_is_one_line_naming_file_and_table(tmp_path, change, message):
    path = broken(tmp_path, change)
    with pytest.raises(OffboardError, match=message) as caught:
        load_catalog(path)
    assert str(caught.value).startswith(str(path)) and "\n" not in str(caught.value)


def test_a_catalog_that_is_not_yaml(tmp_path):
    path = tmp_path / "connections.yaml"
    path.write_text("databases: [\n")
    with pytest.raises(OffboardError, match="line 2 not valid YAML"):
        load_catalog(path)


SMALL = """
format: 2
content_stores:
  files: {folder: files/upload, about: binaries, layout: {rule: hashed-id}}
  blogs: {folder: blogs/upload, about: uploads}
databases:
  ONE:
    application: One
    schema: ONE
    excluded: {ONE.CACHE: a cache the product rebuilds}
    tables:
      CHILD:
        tenant: ORG_ID
        key: [ID]
        columns: {ID: CHAR(16) FOR BIT DATA, ORG_ID: VARCHAR(20), PARENT_ID: CHAR(16) FOR BIT DATA, PATH: VARCHAR(256)}
        parents: {PARENT_ID: ONE.PARENT}
        content: {store: blogs, path: PATH}
      PARENT:
        tenant: ORG_ID
        key: [ID]
        columns: {ID: CHAR(16) FOR BIT DATA, ORG_ID: VARCHAR(20), PHOTO: BLOB(10M)}
        content: {store: files, id: ID}
      ORG:
        tenant: ORG_ID
        key: [ORG_ID]
        ensure: true
        columns: {ORG_ID: VARCHAR(20), EXID: VARCHAR(64)}
"""


def small(tmp_path, change=lambda d: None) -> Path:
    document = yaml.safe_load(SMALL)
    change(document)
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def test_tables_load_after_their_parents_and_after_the_org_row_they_reference(tmp_path):
    catalog = load_catalog(small(tmp_path))
    assert [t.qualified for t in catalog.tables()] == ["ONE.ORG", "ONE.PARENT", "ONE.CHILD"]
    assert catalog.tables()[1].types["PHOTO"].length == 10 << 20


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["databases"]["ONE"]["tables"]["PARENT"].update(parents={"ID": "ONE.CHILD"}), "ONE.CHILD, ONE.PARENT form a cycle"),
    (lambda d: d["databases"]["ONE"]["tables"]["CHILD"].update(parents={"PARENT_ID": "ONE.NOWHERE"}), "parent table ONE.NOWHERE is not in"),
    (lambda d: d["databases"]["ONE"]["tables"]["ORG"].update(ensure=False), "must not be part of the key"),
    (lambda d: d["databases"]["ONE"]["tables"]["CHILD"]["content"].update(id="ID"), "content needs one of: path"),
    (lambda d: d["databases"]["ONE"]["tables"]["CHILD"].update(content={"store": "blogs", "id": "ID"}), "store 'blogs' has no layout"),
    (lambda d: d["databases"]["ONE"]["excluded"].update({"ONE.CHILD": "why"}), "ONE.CHILD is both moved and excluded"),
    (lambda d: d["databases"]["ONE"]["excluded"].update({"CACHE2": "why"}), "excluded.CACHE2.\\[key\\]: String should match pattern"),
    (lambda d: d["databases"]["ONE"]["tables"]["PARENT"].update(key=["PHOTO"]), "key columns must be"),
    (lambda d: d["databases"]["ONE"]["tables"]["PARENT"]["columns"].update(PHOTO="BLOB(3G)"), "unsupported type 'BLOB\\(3G\\)'"),
    (lambda d: d["databases"]["ONE"]["tables"]["PARENT"]["columns"].update(PHOTO="DECIMAL(5,6)"), "unsupported type 'DECIMAL"),
])
def test_a_broken_format_2_catalog_is_one_line(tmp_path, change, message):
    with pytest.raises(OffboardError, match=message):
        load_catalog(small(tmp_path, change))
