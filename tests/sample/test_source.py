"""The synthetic source: deterministic, multi-tenant, complete, and mutable like a live org."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from offboard.db.catalog import load_catalog
from offboard.errors import OffboardError
from offboard.sample import SampleLayout, create_sample, mutate_org
from tests.db.support import copy_sample, query, snapshot


def contents(layout: SampleLayout) -> dict[str, str]:
    """A digest of every table's rows and every content file, by name."""
    found = {table: hashlib.sha256(repr(rows).encode()).hexdigest() for table, rows in snapshot(layout, "source").items()}
    for store, folder in layout.content_stores.items():
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                found[f"{store}/{path.relative_to(folder)}"] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def count(layout: SampleLayout, side: str, database: str, sql: str, **params) -> int:
    return query(layout, side, database, sql, **params)[0][0]


def engine_of(server: str | None) -> dict:
    return {"engine": "postgresql", "server": server} if server else {}


@pytest.fixture(scope="module")
def made(tmp_path_factory, server) -> SampleLayout:
    return create_sample(tmp_path_factory.mktemp("made") / "sample", orgs=3, seed=11, **engine_of(server))


def test_the_same_seed_makes_the_same_sample(made, tmp_path, server):
    again = create_sample(tmp_path / "again", orgs=3, seed=11, **engine_of(server))
    other = create_sample(tmp_path / "other", orgs=3, seed=12, **engine_of(server))
    assert again.org_ids == made.org_ids and contents(again) == contents(made)
    assert other.org_ids != made.org_ids


def test_every_table_has_rows_of_every_org_and_the_targets_are_empty(made):
    catalog = load_catalog(made.catalog)
    for spec in catalog.tables():
        for org_id in made.org_ids:
            assert count(made, "source", spec.database, f'SELECT COUNT(*) FROM "{spec.name}" WHERE "{spec.tenant}" = :org', org=org_id) > 0, spec.qualified
        for target in ("staging", "production"):
            assert count(made, target, spec.database, f'SELECT COUNT(*) FROM "{spec.name}"') == 0
    per_org = sum(count(made, "source", s.database, f'SELECT COUNT(*) FROM "{s.name}" WHERE "{s.tenant}" = :org', org=made.org_ids[0])
                  for s in catalog.tables())
    assert 200 <= per_org <= 1000  # a few hundred rows per org by default


def test_all_orgs_binaries_lie_side_by_side_and_each_row_has_its_file(made):
    for store, table in (("files", "MEDIA"), ("wikis", "MEDIA")):
        database = store.upper()
        owners = {org_id: count(made, "source", database, f'SELECT COUNT(*) FROM "{table}" WHERE "ORG_ID" = :org', org=org_id) for org_id in made.org_ids}
        files = [p for p in made.content_stores[store].rglob("*") if p.is_file()]
        assert all(owners.values()) and len(files) == sum(owners.values())


def test_text_links_to_the_cloud_and_the_mapping_lacks_one_user(made):
    org = made.orgs[0]
    linked = count(made, "source", "BLOGS", 'SELECT COUNT(*) FROM "WEBLOGENTRY" WHERE "ORG_ID" = :org AND "TEXT" LIKE \'%https://apps.__.collabserv.com/%userid=%\'',
                   org=org.org_id)
    assert linked > 0
    mapped = made.user_mapping(org.org_id).read_text().splitlines()
    assert mapped[0] == "cloud_id,target_id,email" and len(mapped) - 1 == len(org.users) - 1


def test_mutation_changes_one_org_only(made, tmp_path):
    layout = copy_sample(made.root, tmp_path / "copy")
    org, other = layout.orgs[0], layout.orgs[1]
    before = contents(layout)

    changes = mutate_org(layout.root, org.org_id, seed=1)

    assert sum(len(c.inserted) for c in changes.values()) and sum(len(c.updated) for c in changes.values())
    assert sum(len(c.deleted) for c in changes.values())
    after = contents(layout)
    assert after != before
    theirs = 'SELECT * FROM "WEBLOGENTRY" WHERE "ORG_ID" = :org ORDER BY "ID"'
    assert query(layout, "source", "BLOGS", theirs, org=other.org_id) == query(made, "source", "BLOGS", theirs, org=other.org_id)


def test_a_sample_needs_an_empty_folder(made):
    with pytest.raises(OffboardError, match="is not empty"):
        create_sample(made.root)
    with pytest.raises(OffboardError, match="holds no sample"):
        SampleLayout.load(Path(made.root).parent / "nowhere")
