"""The org's binaries are picked from the shared content stores by its rows."""

from __future__ import annotations

import uuid

from offboard.db import content
from offboard.db.content import content_tenants, org_content
from offboard.sample import mutate_org

from .support import catalog_of


def test_the_org_gets_its_own_files_of_every_store_and_no_other(sample, org):
    files = list(org_content(catalog_of(sample), sample.sources, org.org_id, sample.content_stores))

    assert {store for store, _ in files} == {"files", "wikis", "activities", "blogs", "forums"}  # dogear: no table names a file
    assert all((sample.content_stores[store] / path).is_file() for store, path in files)
    everyone = {(store, p.relative_to(folder).as_posix()) for store, folder in sample.content_stores.items()
                for p in folder.rglob("*") if p.is_file()}
    others = {name for other in sample.orgs if other != org
              for name in org_content(catalog_of(sample), sample.sources, other.org_id, sample.content_stores)}
    assert set(files) < everyone  # the stores hold the other orgs' files too
    assert set(files).isdisjoint(others) and set(files) | others == everyone


def test_files_follow_the_rows_after_a_mutation(sample, org):
    layout = catalog_of(sample).content_stores["files"].layout
    changes = mutate_org(sample.root, org.org_id, seed=2)
    paths = {path for store, path in org_content(catalog_of(sample), sample.sources, org.org_id, sample.content_stores) if store == "files"}
    assert changes["FILES.MEDIA"].inserted and changes["FILES.MEDIA"].deleted
    for (key,) in changes["FILES.MEDIA"].inserted:
        assert content.binary_path(layout, key) in paths
    for (key,) in changes["FILES.MEDIA"].deleted:
        assert content.binary_path(layout, key) not in paths
        assert not (sample.content_stores["files"] / content.binary_path(layout, key)).exists()


def test_the_tenants_whose_rows_point_at_a_file(sample, org):
    other = sample.orgs[0]
    own = next(path for store, path in org_content(catalog_of(sample), sample.sources, org.org_id, sample.content_stores) if store == "files")
    theirs = next(path for store, path in org_content(catalog_of(sample), sample.sources, other.org_id, sample.content_stores) if store == "wikis")
    asked = [("files", own), ("wikis", theirs), ("files", "1/2/nobody-points-here")]
    expected = {("files", own): {org.org_id}, ("wikis", theirs): {other.org_id}}
    assert content_tenants(catalog_of(sample), sample.sources, asked) == expected
    layout = catalog_of(sample).content_stores["files"].layout
    nobody = [("files", content.binary_path(layout, i.to_bytes(16, "big"))) for i in range(1, content.SCAN_FROM + 1)]
    assert content_tenants(catalog_of(sample), sample.sources, asked + nobody) == expected  # one pass over the table instead


LOCATORS = """
format: 2
content_stores:
  files: {folder: files/upload, about: by id, layout: {rule: hashed-id, levels: 2, fanout: 128}}
  forums: {folder: forums/content, about: by path}
  blogs: {folder: blogs/upload, about: by folder}
databases:
  ALL:
    application: All
    schema: A
    tables:
      MEDIA:
        tenant: ORG_ID
        key: [ID]
        columns: {ID: CHAR(16) FOR BIT DATA, ORG_ID: VARCHAR(20)}
        content: {store: files, id: ID}
      CONTENTREF:
        tenant: ORG_ID
        key: [ID]
        columns: {ID: INTEGER, ORG_ID: VARCHAR(20), CURI: VARCHAR(64), FILENAME: VARCHAR(64)}
        content: {store: forums, path: [CURI, FILENAME]}
      WEBSITE:
        tenant: ORG_ID
        key: [ID]
        columns: {ID: INTEGER, ORG_ID: VARCHAR(20), HANDLE: VARCHAR(64)}
        content: {store: blogs, folder: HANDLE}
"""


def test_every_kind_of_locator_finds_the_org_s_files_and_the_target_tells_whose_they_are(server, tmp_path):
    import sqlalchemy as sa

    from offboard.db.catalog import load_catalog
    from offboard.db.connect import open_engine, table_of
    from tests.db.support import catalog_databases

    (tmp_path / "catalog.yaml").write_text(LOCATORS)
    catalog = load_catalog(tmp_path / "catalog.yaml")
    urls = {"ALL": catalog_databases(server, tmp_path, catalog, ("source",))["source"]}
    roots = {store: tmp_path / store for store in ("files", "forums", "blogs")}
    ids = {"1001": b"\x01" * 16, "1002": b"\x02" * 16}
    engine = open_engine(urls["ALL"])
    with engine.begin() as connection:
        tables = {spec.name: table_of(spec, engine) for spec in catalog.tables()}
        for n, (org, media_id) in enumerate(ids.items()):
            connection.execute(sa.insert(tables["MEDIA"]).values(ID=media_id, ORG_ID=org))
            connection.execute(sa.insert(tables["CONTENTREF"]).values(ID=n, ORG_ID=org, CURI=f"a/{org}", FILENAME=f"file {n}.pdf"))
            connection.execute(sa.insert(tables["WEBSITE"]).values(ID=n, ORG_ID=org, HANDLE=f"blog{org}"))
        for n, handle in enumerate([".", "./", "..", "/"], start=10):  # the store itself, or outside it: never a row's folder
            connection.execute(sa.insert(tables["WEBSITE"]).values(ID=n, ORG_ID="1001", HANDLE=handle))
    engine.dispose()
    for org in ids:
        for store, path in [("files", content.binary_path(catalog.content_stores["files"].layout, ids[org])),
                            ("forums", f"a/{org}/file {list(ids).index(org)}.pdf"), ("blogs", f"blog{org}/img/logo.png"),
                            ("blogs", f"blog{org}/notes.txt")]:
            (roots[store] / path).parent.mkdir(parents=True, exist_ok=True)
            (roots[store] / path).write_bytes(org.encode())
    (roots["blogs"] / "blog1001" / "elsewhere").symlink_to(roots["blogs"] / "blog1002" / "notes.txt")

    own = sorted(org_content(catalog, urls, "1001", roots))

    assert own == sorted([("files", content.binary_path(catalog.content_stores["files"].layout, ids["1001"])),
                          ("forums", "a/1001/file 0.pdf"), ("blogs", "blog1001/img/logo.png"), ("blogs", "blog1001/notes.txt")])
    assert dict(own)["files"].endswith(f"/{uuid.UUID(bytes=ids['1001'])}")
    theirs = sorted(org_content(catalog, urls, "1002", roots))
    tenants = content_tenants(catalog, urls, [*own, *theirs, ("blogs", "nobody/x"), ("forums", "a/1001/other.pdf")])
    assert tenants == {**{name: {"1001"} for name in own}, **{name: {"1002"} for name in theirs}}
