"""The synthetic source: deterministic, multi-tenant, complete, and mutable like a live org."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from offboard.db.catalog import load_catalog
from offboard.errors import OffboardError
from offboard.sample import SampleLayout, create_sample, mutate_org


def contents(layout: SampleLayout) -> dict[str, str]:
    """A digest of every table's rows and every content file, by name."""
    found = {}
    for database, url in layout.sources.items():
        with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as db:
            for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
                rows = sorted(db.execute(f'SELECT * FROM "{table}"'), key=repr)
                found[f"{database}.{table}"] = hashlib.sha256(repr(rows).encode()).hexdigest()
    for store, folder in layout.content_stores.items():
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                found[f"{store}/{path.relative_to(folder)}"] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def count(url: str, sql: str, *params) -> int:
    with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as db:
        return db.execute(sql, params).fetchone()[0]


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> SampleLayout:
    return create_sample(tmp_path_factory.mktemp("made") / "sample", orgs=3, seed=11)


def test_the_same_seed_makes_the_same_sample(made, tmp_path):
    again = create_sample(tmp_path / "again", orgs=3, seed=11)
    other = create_sample(tmp_path / "other", orgs=3, seed=12)
    assert again.org_ids == made.org_ids and contents(again) == contents(made)
    assert other.org_ids != made.org_ids


def test_every_table_has_rows_of_every_org_and_the_targets_are_empty(made):
    catalog = load_catalog(made.catalog)
    for spec in catalog.tables():
        for org_id in made.org_ids:
            assert count(made.sources[spec.database], f'SELECT COUNT(*) FROM "{spec.name}" WHERE "{spec.tenant}" = ?', org_id) > 0, spec.qualified
        for target in ("staging", "production"):
            assert count(made.targets[target][spec.database], f'SELECT COUNT(*) FROM "{spec.name}"') == 0
    per_org = sum(count(made.sources[s.database], f'SELECT COUNT(*) FROM "{s.name}" WHERE "{s.tenant}" = ?', made.org_ids[0]) for s in catalog.tables())
    assert 200 <= per_org <= 1000  # a few hundred rows per org by default


def test_all_orgs_binaries_lie_side_by_side_and_each_row_has_its_file(made):
    for store, table in (("files", "MEDIA"), ("wikis", "MEDIA")):
        database = store.upper()
        owners = {org_id: count(made.sources[database], f'SELECT COUNT(*) FROM "{table}" WHERE "ORG_ID" = ?', org_id) for org_id in made.org_ids}
        files = [p for p in made.content_stores[store].rglob("*") if p.is_file()]
        assert all(owners.values()) and len(files) == sum(owners.values())


def test_text_links_to_the_cloud_and_the_mapping_lacks_one_user(made):
    org = made.orgs[0]
    linked = count(made.sources["BLOGS"], 'SELECT COUNT(*) FROM "WEBLOGENTRY" WHERE "ORG_ID" = ? AND "TEXT" LIKE \'%https://apps.__.collabserv.com/%userid=%\'', org.org_id)
    assert linked > 0
    mapped = made.user_mapping(org.org_id).read_text().splitlines()
    assert mapped[0] == "cloud_id,target_id,email" and len(mapped) - 1 == len(org.users) - 1


def test_mutation_changes_one_org_only(made, tmp_path):
    shutil.copytree(made.root, tmp_path / "copy")
    layout = SampleLayout.load(tmp_path / "copy")
    org, other = layout.orgs[0], layout.orgs[1]
    before = contents(layout)

    changes = mutate_org(layout.root, org.org_id, seed=1)

    assert sum(len(c.inserted) for c in changes.values()) and sum(len(c.updated) for c in changes.values())
    assert sum(len(c.deleted) for c in changes.values())
    after = contents(layout)
    assert after != before
    with closing(sqlite3.connect(layout.sources["BLOGS"].removeprefix("sqlite:///"))) as db:
        theirs = db.execute('SELECT * FROM "WEBLOGENTRY" WHERE "ORG_ID" = ? ORDER BY "ID"', (other.org_id,)).fetchall()
    with closing(sqlite3.connect(made.sources["BLOGS"].removeprefix("sqlite:///"))) as db:
        assert theirs == db.execute('SELECT * FROM "WEBLOGENTRY" WHERE "ORG_ID" = ? ORDER BY "ID"', (other.org_id,)).fetchall()


def test_a_sample_needs_an_empty_folder(made):
    with pytest.raises(OffboardError, match="is not empty"):
        create_sample(made.root)
    with pytest.raises(OffboardError, match="holds no sample"):
        SampleLayout.load(Path(made.root).parent / "nowhere")
