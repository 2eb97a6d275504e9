"""The org's binaries are picked from the shared content stores by its rows."""

from __future__ import annotations

from offboard.db import content
from offboard.db.content import content_tenants, org_content
from offboard.sample import mutate_org

from .support import catalog_of, query


def test_the_org_gets_its_own_files_of_every_store_and_no_other(sample, org):
    files = list(org_content(catalog_of(sample), sample.sources, org.org_id))

    assert {store for store, _ in files} == {"files", "wikis"}
    assert all((sample.content_stores[store] / path).is_file() for store, path in files)
    everyone = {str(p.relative_to(sample.content_stores["files"])) for p in sample.content_stores["files"].rglob("*") if p.is_file()}
    own = {path for store, path in files if store == "files"}
    assert own < everyone  # the store holds the other orgs' files too
    theirs = {path for (path,) in query(sample, "source", "FILES", 'SELECT "CONTENT_PATH" FROM "MEDIA" WHERE "ORG_ID" != :org', org=org.org_id)}
    assert own.isdisjoint(theirs) and own | theirs == everyone


def test_files_follow_the_rows_after_a_mutation(sample, org):
    changes = mutate_org(sample.root, org.org_id, seed=2)
    paths = {path for store, path in org_content(catalog_of(sample), sample.sources, org.org_id) if store == "files"}
    for (key,) in changes["FILES.MEDIA"].inserted:
        assert f"{key[:2]}/{key[2:4]}/{key}" in paths
    for (key,) in changes["FILES.MEDIA"].deleted:
        assert f"{key[:2]}/{key[2:4]}/{key}" not in paths
        assert not (sample.content_stores["files"] / f"{key[:2]}/{key[2:4]}/{key}").exists()


def test_the_tenants_whose_rows_point_at_a_file(sample, org):
    other = sample.orgs[0]
    own = next(path for store, path in org_content(catalog_of(sample), sample.sources, org.org_id) if store == "files")
    theirs = next(path for store, path in org_content(catalog_of(sample), sample.sources, other.org_id) if store == "wikis")
    asked = [("files", own), ("wikis", theirs), ("files", "nobody/points/here")]
    expected = {("files", own): {org.org_id}, ("wikis", theirs): {other.org_id}}
    assert content_tenants(catalog_of(sample), sample.sources, asked) == expected
    many = asked + [("files", f"nobody/{i}") for i in range(content.SCAN_FROM)]  # one pass over the table instead
    assert content_tenants(catalog_of(sample), sample.sources, many) == expected
