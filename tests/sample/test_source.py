"""The synthetic source: deterministic, multi-tenant, complete, faithful to the catalog's types,
parents and content stores, and mutable like a live org. Most tests use tests/sample/catalog.yaml,
a small format-2 catalog with every type; one builds the repository's catalog."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from offboard.db.catalog import Catalog, TableSpec, load_catalog
from offboard.db.content import binary_path
from offboard.errors import OffboardError
from offboard.sample import SampleLayout, create_sample, mutate_org
from offboard.sample import mutate, schema, tables
from tests.db.support import connected, copy_sample, query, snapshot

CATALOG = Path(__file__).with_name("catalog.yaml")
NASTY = [b"\x00", b"\n", b"\r\n", b'"', b",", b"\xff\xfe"]


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


def org_rows(layout: SampleLayout, spec: TableSpec, org_id: str, side: str = "source") -> list[dict]:
    rows = query(layout, side, spec.database, f'SELECT * FROM "{spec.name}" WHERE "{spec.tenant}" = :org', org=org_id)
    return [dict(zip(spec.column_names, row)) for row in rows]


def plain(value):
    return value.rstrip(" ") if isinstance(value, str) else value


def binaries(layout: SampleLayout, catalog: Catalog, org_id: str) -> list[tuple[str, str]]:
    """(store, path) of every binary of the org's content rows, as the catalog locates them: at the
    path the layout makes of the id, at the path the path columns spell, or in the row's folder
    (which must hold one at least)."""
    found = []
    for spec in catalog.tables():
        content = spec.content
        for row in org_rows(layout, spec, org_id) if content else []:
            if content.id:
                found.append((content.store, binary_path(catalog.content_stores[content.store].layout, row[content.id])))
                continue
            path = "/".join(plain(row[column]) for column in content.columns)
            assert path and not path.startswith("/") and ".." not in path.split("/"), (spec.qualified, path)
            if content.path:
                found.append((content.store, path))
            else:
                folder = layout.content_stores[content.store] / path
                inside = [p.relative_to(layout.content_stores[content.store]).as_posix() for p in folder.rglob("*") if p.is_file()]
                assert inside, (spec.qualified, path)
                found += [(content.store, file) for file in inside]
    return found


def dangling(layout: SampleLayout, catalog: Catalog, org_id: str) -> list[str]:
    """Every parent column value of the org's rows that is no key of the org's parent rows."""
    keys = {spec.qualified: {plain(row[spec.key[0]]) for row in org_rows(layout, spec, org_id)} for spec in catalog.tables()}
    found = []
    for spec in catalog.tables():
        for row in org_rows(layout, spec, org_id) if spec.parents else []:
            for column, parent in spec.parents.items():
                if row[column] is None and parent != spec.qualified:
                    found.append(f"{spec.qualified}.{column} NULL")
                elif row[column] is not None and plain(row[column]) not in keys[parent]:
                    found.append(f"{spec.qualified}.{column} = {row[column]!r}")
    return found


@pytest.fixture(scope="module")
def made(tmp_path_factory, server) -> SampleLayout:
    return create_sample(tmp_path_factory.mktemp("made") / "sample", orgs=3, seed=11, catalog_path=CATALOG, **engine_of(server))


@pytest.fixture(scope="module")
def catalog(made) -> Catalog:
    return load_catalog(made.catalog)


def test_the_same_seed_makes_the_same_sample(made, tmp_path, server):
    again = create_sample(tmp_path / "again", orgs=3, seed=11, catalog_path=CATALOG, **engine_of(server))
    other = create_sample(tmp_path / "other", orgs=3, seed=12, catalog_path=CATALOG, **engine_of(server))
    assert again.org_ids == made.org_ids and again.orgs == made.orgs and contents(again) == contents(made)
    assert other.org_ids != made.org_ids


def test_every_table_has_rows_of_every_org_and_the_targets_are_empty(made, catalog):
    for spec in catalog.tables():
        for org_id in made.org_ids:
            rows = count(made, "source", spec.database, f'SELECT COUNT(*) FROM "{spec.name}" WHERE "{spec.tenant}" = :org', org=org_id)
            assert rows == 1 if spec.ensure else rows > 0, spec.qualified
        for target in ("staging", "production"):
            assert count(made, target, spec.database, f'SELECT COUNT(*) FROM "{spec.name}"') == 0
    per_org = sum(len(org_rows(made, spec, made.org_ids[0])) for spec in catalog.tables())
    assert 150 <= per_org <= 1000  # a few hundred rows per org by default


def test_binary_ids_are_16_bytes_and_parents_hold_keys_of_the_same_org(made, catalog):
    binary_keys = [(spec, column) for spec in catalog.tables() for column in spec.key if spec.columns[column] == "CHAR(16) FOR BIT DATA"]
    assert binary_keys
    for org_id in made.org_ids:
        for spec, column in binary_keys:
            assert all(isinstance(row[column], bytes) and len(row[column]) == 16 for row in org_rows(made, spec, org_id))
        assert dangling(made, catalog, org_id) == []
    nodes = org_rows(made, catalog.table("FORUM.DF_NODE"), made.org_ids[0])  # a tree: roots and children
    assert any(row["TOPICID"] is None for row in nodes) and any(row["TOPICID"] is not None for row in nodes)


def test_blobs_hold_bytes_that_break_naive_text_handling(made, catalog):
    blob_columns = [(spec, column) for spec in catalog.tables() for column, t in spec.types.items() if t.kind == "BLOB"]
    assert len(blob_columns) >= 2
    for org_id in made.org_ids:
        for spec, column in blob_columns:
            values = [row[column] for row in org_rows(made, spec, org_id) if row[column] is not None]
            assert values and all(isinstance(v, bytes) and 300 <= len(v) <= 4000 for v in values), spec.qualified
            for value in values:
                assert all(part in value for part in NASTY) and re.search(rb"[^\xc0-\xff]\x80", value), spec.qualified
                with pytest.raises(UnicodeDecodeError):
                    value.decode()
    photos = [row["PROF_IMAGE"] for row in org_rows(made, catalog.table("EMPINST.PHOTO"), made.org_ids[0]) if row["PROF_IMAGE"]]
    assert all(photo.startswith(b"\xff\xd8\xff") for photo in photos)


def test_values_of_every_type_fit_their_columns(made, catalog):
    seen: dict[str, list] = {}
    for spec in catalog.tables():
        for org_id in made.org_ids:
            for row in org_rows(made, spec, org_id):
                for column, column_type in spec.types.items():
                    value = row[column]
                    seen.setdefault(column_type.kind, []).append(value)
                    if value is None:
                        continue
                    if column_type.kind in ("CHAR", "VARCHAR"):
                        assert len(value.rstrip(" ").encode()) <= column_type.length, (spec.qualified, column)
                    if column_type.kind == "VARBINARY":
                        assert isinstance(value, bytes) and 1 <= len(value) <= column_type.length
                    if column_type.kind == "DECIMAL":
                        number = Decimal(str(value))
                        assert abs(number) < Decimal(10) ** (column_type.precision - column_type.scale), (column, value)
                        assert number == round(number, column_type.scale), (column, value)
                    if column_type.kind == "DATE":
                        assert re.fullmatch(r"\d{4}-\d\d-\d\d", str(value))
                    if column_type.kind == "TIME":
                        assert re.fullmatch(r"\d\d:\d\d:\d\d", str(value))
    assert {"CHAR", "VARCHAR", "BINARY", "VARBINARY", "BLOB", "CLOB", "DECIMAL", "DOUBLE", "DATE", "TIME", "TIMESTAMP",
            "SMALLINT", "INTEGER", "BIGINT"} <= set(seen)
    doubles = [v for v in seen["DOUBLE"] if v is not None]
    assert any(v < 0 for v in doubles) and any(len(repr(v)) > 12 for v in doubles)
    assert any(v is not None and len(v) <= 4 for v in seen["VARBINARY"])  # some metadata is short
    names = " ".join(v for v in seen["VARCHAR"] if v)
    assert all(letter in names for letter in "üéß王")
    assert any(v and "https://apps.na.collabserv.com/" in v for v in seen["CLOB"])
    assert any(v and "https://apps.ce.collabserv.com/" in v for v in seen["CLOB"])


def test_every_content_row_has_its_binary_and_every_store_holds_every_org(made, catalog):
    everything = []
    for org_id in made.org_ids:
        found = binaries(made, catalog, org_id)
        assert {store for store, _ in found} == set(catalog.content_stores)
        for store, path in found:
            assert not path.startswith("/") and ".." not in path.split("/")
            assert (made.content_stores[store] / path).is_file(), (store, path)
        everything += found
    files = {(store, str(p.relative_to(folder))) for store, folder in made.content_stores.items() for p in folder.rglob("*") if p.is_file()}
    assert len(set(everything)) == len(everything) and set(everything) == files  # one binary per row, none left over
    revisions = catalog.table("FILES.MEDIA_REVISION")
    assert revisions.content and org_rows(made, revisions, made.org_ids[0])


def test_guests_keep_a_foreign_home_org(made, catalog):
    people = {"EMPINST.EMPLOYEE": ("PROF_GUID", "H_TENANT_KEY", "PROF_ISEXTERNAL"),
              "HOMEPAGE.PERSON": ("EXID", "HOME_ORG_ID", "IS_EXTERNAL"),
              "SNCOMM.MEMBERPROFILE": ("DIRECTORY_UUID", None, "ISEXTERNAL")}
    for org in made.orgs:
        assert 1 <= len(org.guests) <= 2 and set(org.guests) <= {u.cloud_id for u in org.users[:-1]}
        homes = {u.cloud_id: u.home_org for u in org.users}
        assert all(homes[g] not in (None, org.org_id) for g in org.guests)
        assert all(home is None for user, home in homes.items() if user not in org.guests)
        for table, (user_column, home_column, flag_column) in people.items():
            rows = {row[user_column]: row for row in org_rows(made, catalog.table(table), org.org_id)}
            assert set(rows) == set(homes)
            for user, row in rows.items():
                if home_column:
                    assert row[home_column] == (homes[user] or org.org_id)
                assert row[flag_column] == (user in org.guests)
    assert SampleLayout.load(made.root).orgs == made.orgs  # sample.json keeps them


def test_targets_on_postgresql_enforce_the_parents_the_source_does_not(made, catalog, server, tmp_path):
    child = ('INSERT INTO "MEDIA_REVISION" ("ID", "ORG_ID", "MEDIA_ID") VALUES (:id, :org, :media)', "FILES")
    person = ('INSERT INTO "PERSON" ("PERSON_ID", "ORGANIZATION_ID") VALUES (:id, :org)', "HOMEPAGE")  # no MT_ORGANIZATION row
    comment = ('INSERT INTO "BOARD_COMMENTS" ("COMMENT_ID", "OWNER_ORG") VALUES (:id, :org)', "HOMEPAGE")
    values = {"id": b"\x01" * 16, "org": "12345678", "media": b"\x02" * 16}
    assert inserts(made, "source", *child, **values) and inserts(made, "source", *person, id="p" * 36, org="12345678")
    for target in ("staging", "production"):
        assert inserts(made, target, *comment, id="c" * 36, org="12345678")  # its tenant is named otherwise: no such key
        if server:
            assert not inserts(made, target, *child, **values)
            assert not inserts(made, target, *person, id="p" * 36, org="12345678")
        else:  # SQLite: no foreign keys declared at all
            assert query(made, target, "FILES", "PRAGMA foreign_key_list(\"MEDIA_REVISION\")") == []


def test_a_load_in_load_order_holds_after_a_mutation_and_the_wrong_order_fails(made, catalog, server, tmp_path):
    if not server:
        pytest.skip("SQLite declares no foreign keys")
    layout = copy_sample(made.root, tmp_path / "copy")
    org = layout.orgs[1]
    mutate_org(layout.root, org.org_id, seed=3)
    with tables.side_connections(layout, catalog, "source") as connections:
        rows = {spec.qualified: mutate._org_rows(connections[spec.database], spec, org.org_id) for spec in catalog.tables()}
    load(layout, catalog, "staging", catalog.tables(), rows)  # every reference holds
    media = [catalog.table("FILES.MEDIA")]
    with pytest.raises(Exception, match="foreign key"):
        load(layout, catalog, "production", media, rows)


def load(layout: SampleLayout, catalog: Catalog, side: str, specs: Iterable[TableSpec], rows: dict[str, list]) -> None:
    with tables.side_connections(layout, catalog, side) as connections:
        for spec in specs:
            tables.insert_rows(connections[spec.database], spec, rows[spec.qualified])


class _Rollback(Exception):
    pass


def inserts(layout: SampleLayout, side: str, sql: str, database: str, **params) -> bool:
    """Whether the insert is taken (and then rolled back)."""
    try:
        with connected(layout, side, database) as connection:
            connection.execute(sa.text(sql), params)
            raise _Rollback
    except _Rollback:
        return True
    except sa.exc.IntegrityError:
        return False


def test_mutation_changes_one_org_as_the_weeks_before_cut_over_do(made, catalog, tmp_path):
    layout = copy_sample(made.root, tmp_path / "copy")
    org, other = layout.orgs[0], layout.orgs[1]
    before = {spec.qualified: org_rows(layout, spec, org.org_id) for spec in catalog.tables()}
    theirs = contents(layout)

    changes = mutate_org(layout.root, org.org_id, seed=1)

    assert all(sum(len(getattr(c, kind)) for c in changes.values()) for kind in ("inserted", "updated", "deleted"))
    # A changed photo.
    photos = catalog.table("EMPINST.PHOTO")
    [(key, *_), *_] = changes[photos.qualified].updated
    old, new = ({row["PROF_KEY"]: row["PROF_IMAGE"] for row in rows} for rows in (before[photos.qualified], org_rows(layout, photos, org.org_id)))
    assert new[key] != old[key] and all(part in new[key] for part in NASTY)
    # A new revision, with its binary.
    revisions = catalog.table("FILES.MEDIA_REVISION")
    added = changes[revisions.qualified].inserted
    assert added and all(isinstance(k, bytes) and len(k) == 16 for (k,) in added)
    for (key,) in added:
        assert (layout.content_stores["files"] / binary_path(catalog.content_stores["files"].layout, key)).is_file()
    # A deleted attachment, without its binary.
    attachments = catalog.table("FORUM.DF_CONTENTREF")
    gone = {row["REFID"]: f'{row["CURI"]}/{row["FILENAME"]}' for row in before[attachments.qualified]}
    assert changes[attachments.qualified].deleted
    for (key,) in changes[attachments.qualified].deleted:
        assert (made.content_stores["forums"] / gone[key]).is_file() and not (layout.content_stores["forums"] / gone[key]).exists()
    assert not [k for (k,) in changes[attachments.qualified].deleted if k in {r["REFID"] for r in org_rows(layout, attachments, org.org_id)}]
    weblogs = catalog.table("BLOGS.WEBSITE")  # a row whose binaries are its folder's files
    folders = {row["ID"]: row["UPLOAD_FOLDER"] for row in before[weblogs.qualified]}
    assert changes[weblogs.qualified].deleted
    for (key,) in changes[weblogs.qualified].deleted:
        assert (made.content_stores["blogs"] / folders[key]).is_dir() and not (layout.content_stores["blogs"] / folders[key]).exists()
    # Every content row still has its binary, every reference its row, the org its own rows.
    assert all((layout.content_stores[store] / path).is_file() for store, path in binaries(layout, catalog, org.org_id))
    assert dangling(layout, catalog, org.org_id) == []
    for spec in catalog.tables():
        if spec.ensure:
            assert spec.qualified not in changes and org_rows(layout, spec, org.org_id) == before[spec.qualified]
    # One edit left the change-time column alone.
    untouched = []
    for table, change in changes.items():
        spec = catalog.table(table)
        if spec.changed and change.updated:
            stamps = {tuple(row[k] for k in spec.key): row[spec.changed] for row in before[table]}
            after = {tuple(row[k] for k in spec.key): row[spec.changed] for row in org_rows(layout, spec, org.org_id)}
            untouched += [key for key in change.updated if after[key] == stamps[key]]
    assert untouched
    # The other orgs' rows and binaries stay.
    after = contents(layout)
    for spec in catalog.tables():
        assert org_rows(layout, spec, other.org_id) == org_rows(made, spec, other.org_id)
    own = {f"{store}/{path}" for store, path in binaries(made, catalog, org.org_id)} | {f"{s}/{p}" for s, p in binaries(layout, catalog, org.org_id)}
    assert {k: v for k, v in after.items() if "/" in k and k not in own} == {k: v for k, v in theirs.items() if "/" in k and k not in own}


def test_the_repository_catalog_builds_and_mutates(tmp_path, server):
    layout = create_sample(tmp_path / "sample", orgs=2, seed=5, **engine_of(server))
    catalog = load_catalog(layout.catalog)
    for spec in catalog.tables():
        for org_id in layout.org_ids:
            assert len(org_rows(layout, spec, org_id)) == 1 if spec.ensure else org_rows(layout, spec, org_id), spec.qualified
    for org in layout.orgs:
        assert all((layout.content_stores[store] / path).is_file() for store, path in binaries(layout, catalog, org.org_id))
        assert dangling(layout, catalog, org.org_id) == []
        homes = {u.cloud_id: u.home_org or org.org_id for u in org.users}
        people = [spec for spec in catalog.tables() if spec.references.users and spec.references.orgs and not spec.parents and not spec.ensure]
        assert people  # EMPINST.EMPLOYEE (H_TENANT_KEY), HOMEPAGE.PERSON (HOME_ORG_ID)
        for spec in people:
            rows = org_rows(layout, spec, org.org_id)
            assert {row[spec.references.users[0]]: row[spec.references.orgs[0]] for row in rows} == homes, spec.qualified
    if server:  # the targets' foreign keys: every parent, and HOMEPAGE's organization
        expected = sum(len(schema.foreign_key_statements(database, sa.create_engine("postgresql+psycopg://").dialect))
                       for database in catalog.databases.values())
        sql = "SELECT COUNT(*) FROM pg_constraint WHERE contype = 'f'"
        assert [count(layout, side, "HOMEPAGE", sql) for side in ("source", "staging", "production")] == [0, expected, expected]
        organization = sql + """ AND confrelid = '"HOMEPAGE"."MT_ORGANIZATION"'::regclass"""
        assert count(layout, "staging", "HOMEPAGE", organization) >= len(catalog.databases["HOMEPAGE"].tables) - 1
    changes = mutate_org(layout.root, layout.org_ids[0], seed=2)
    assert sum(len(c.inserted) + len(c.updated) + len(c.deleted) for c in changes.values())
    assert dangling(layout, catalog, layout.org_ids[0]) == []


def test_the_mapping_lacks_one_user(made):
    org = made.orgs[0]
    mapped = made.user_mapping(org.org_id).read_text(encoding="utf-8").splitlines()
    members = [user for user in org.users[:-1] if not user.home_org]  # guests belong to another org's directory
    assert mapped[0] == "cloud_id,target_id,email" and [line.split(",")[0] for line in mapped[1:]] == [u.cloud_id for u in members]
    assert org.users[-1].cloud_id not in "\n".join(mapped)


def test_a_sample_needs_an_empty_folder(made):
    with pytest.raises(OffboardError, match="is not empty"):
        create_sample(made.root)
    with pytest.raises(OffboardError, match="holds no sample"):
        SampleLayout.load(Path(made.root).parent / "nowhere")
