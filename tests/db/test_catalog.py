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
    assert all(2 <= len(d.tables) <= 4 for d in catalog.databases.values())
    content = {t.qualified: t.content.store for t in catalog.tables() if t.content}
    assert content == {"FILES.MEDIA": "files", "WIKIS.MEDIA": "wikis"}
    kinds = {kind for t in catalog.tables() for kind in ("links", "users", "orgs") if getattr(t.references, kind)}
    assert kinds == {"links", "users", "orgs"}


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
        (lambda d: d["databases"]["FILES"]["tables"]["MEDIA"]["references"].update(users=["FILE_SIZE"]), "reference column FILE_SIZE must be CHAR, VARCHAR or CLOB"),
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
