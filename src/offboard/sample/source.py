"""A synthetic multi-tenant Connections source, deterministic for a seed.

On SQLite, one file per Connections database; on PostgreSQL, one database per side (source,
staging, production) with a schema per Connections schema, as on DB2 a schema per application.
Every catalog table holds rows of several orgs; content stores where all orgs' binaries lie
side by side; empty staging and production targets of the same schema; per org a user mapping
as the MSP's directory sync would produce it (one user left out on purpose, as happens). Rows
come from the catalog: any table added there gets plausible rows here, and `_PARENTS` links the
columns that point at another table's key.
"""

from __future__ import annotations

import csv
import json
import random
import secrets
import shutil
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from offboard.customer import database_urls, holds_password
from offboard.db.catalog import CATALOG_FILE, Catalog, TableSpec, is_integer_type, is_text_type, load_catalog
from offboard.db.bulk import executing
from offboard.db.connect import database_errors, open_engine, table_of
from offboard.db.scan import org_batches
from offboard.db.statements import delete_keys, update_columns
from offboard.errors import OffboardError
from offboard.masking import mask_url
from offboard.sample.cluster import start_cluster, stop_cluster

LAYOUT_FILE = "sample.json"
CLOUD_HOSTS = ["apps.na.collabserv.com", "apps.ce.collabserv.com"]
TARGETS = ("staging", "production")
SIDES = ("source", *TARGETS)
ENGINES = ("sqlite", "postgresql")
CLUSTER_FOLDER = "postgres"  # a sample's own PostgreSQL cluster, when no server was given
_REPOSITORY_CATALOG = Path(__file__).resolve().parents[3] / "runbooks" / CATALOG_FILE
_EPOCH = datetime(2023, 1, 2, 8, 0, 0)
_TIMESTAMP = "%Y-%m-%d %H:%M:%S.%f"

# Columns that hold the key of another table (of the same org).
_PARENTS = {
    "FILES.LIBRARY.OWNER_USER_ID": "FILES.USER",
    "FILES.LIBRARY.EXTERNAL_CONTAINER_ID": "SNCOMM.COMMUNITY",
    "FILES.MEDIA.LIBRARY_ID": "FILES.LIBRARY",
    "FILES.MEDIA.OWNER_USER_ID": "FILES.USER",
    "FILES.MEDIA_COMMENT.MEDIA_ID": "FILES.MEDIA",
    "FILES.MEDIA_COMMENT.OWNER_USER_ID": "FILES.USER",
    "WIKIS.LIBRARY.OWNER_USER_ID": "WIKIS.USER",
    "WIKIS.LIBRARY.EXTERNAL_CONTAINER_ID": "SNCOMM.COMMUNITY",
    "WIKIS.MEDIA.LIBRARY_ID": "WIKIS.LIBRARY",
    "WIKIS.MEDIA.OWNER_USER_ID": "WIKIS.USER",
    "SNCOMM.COMMUNITY.CREATED_BY": "SNCOMM.MEMBERPROFILE",
    "SNCOMM.MEMBER.COMMUNITY_UUID": "SNCOMM.COMMUNITY",
    "SNCOMM.MEMBER.MEMBER_UUID": "SNCOMM.MEMBERPROFILE",
    "BLOGS.WEBSITE.USERID": "BLOGS.ROLLERUSER",
    "BLOGS.WEBLOGENTRY.WEBSITEID": "BLOGS.WEBSITE",
    "BLOGS.WEBLOGENTRY.USERID": "BLOGS.ROLLERUSER",
    "BLOGS.ROLLER_COMMENT.ENTRYID": "BLOGS.WEBLOGENTRY",
    "BLOGS.ROLLER_COMMENT.USERID": "BLOGS.ROLLERUSER",
    "ACTIVITIES.OA_NODE.CREATEDBY": "ACTIVITIES.OA_MEMBERPROFILE",
    "ACTIVITIES.OA_TAG.NODEUUID": "ACTIVITIES.OA_NODE",
    "ACTIVITIES.OA_TAG.OWNER": "ACTIVITIES.OA_MEMBERPROFILE",
    "FORUM.DF_NODE.CREATEDBY": "FORUM.DF_MEMBERPROFILE",
    "FORUM.DF_NODECOMMMAP.COMMUNITYUUID": "SNCOMM.COMMUNITY",
    "HOMEPAGE.BOARD_ENTRIES.ACTOR_UUID": "HOMEPAGE.PERSON",
    "HOMEPAGE.BOARD_COMMENTS.ENTRY_ID": "HOMEPAGE.BOARD_ENTRIES",
    "HOMEPAGE.BOARD_COMMENTS.ACTOR_UUID": "HOMEPAGE.PERSON",
    "EMPINST.PROFILE_EXTENSIONS.PROF_KEY": "EMPINST.EMPLOYEE",
    "EMPINST.PEOPLE_TAG.PROF_SOURCE_KEY": "EMPINST.EMPLOYEE",
    "EMPINST.PEOPLE_TAG.PROF_TARGET_KEY": "EMPINST.EMPLOYEE",
    "DOGEAR.BOOKMARK.LINK_ID": "DOGEAR.LINK",
    "DOGEAR.BOOKMARK.MEMBER_ID": "DOGEAR.PERSON",
}
# Rows per org at scale 1 for tables that are not people (people tables get a row per user).
_ROWS = {"FILES.MEDIA": 24, "FILES.MEDIA_COMMENT": 16, "WIKIS.MEDIA": 16, "SNCOMM.MEMBER": 30,
         "BLOGS.WEBLOGENTRY": 16, "BLOGS.ROLLER_COMMENT": 20, "ACTIVITIES.OA_NODE": 16,
         "FORUM.DF_NODE": 16, "HOMEPAGE.BOARD_ENTRIES": 20, "HOMEPAGE.BOARD_COMMENTS": 16,
         "EMPINST.PROFILE_EXTENSIONS": 16, "EMPINST.PEOPLE_TAG": 16, "DOGEAR.BOOKMARK": 16}
_DEFAULT_ROWS = 6
_USERS = 12
_FIRST = ["Anna", "Ben", "Chiara", "David", "Elif", "Femi", "Greta", "Hugo", "Ines", "Jonas", "Kira", "Lars", "Mona", "Nils"]
_LAST = ["Auer", "Brandt", "Costa", "Dietrich", "Eder", "Fuchs", "Graf", "Hahn", "Iversen", "Jung", "Kraus", "Lang"]
_WORDS = ("budget plan review draft launch meeting notes roadmap customer team quarterly report design "
          "release travel policy onboarding training workshop agenda minutes proposal summary").split()


@dataclass(frozen=True)
class User:
    cloud_id: str
    target_id: str
    name: str
    email: str


@dataclass(frozen=True)
class OrgSample:
    org_id: str
    target_org_id: str  # the id the MSP gives the org
    users: list[User]


@dataclass(frozen=True)
class SampleLayout:
    """Where everything of a sample lies. Saved as sample.json with paths relative to `root`,
    so a sample folder can be copied or moved.

    `server`: the PostgreSQL server's URL as given (a password as `${VARIABLE}`), None on
    SQLite; the sample's databases there are named `<prefix>_<side>`."""

    root: Path
    cloud_hosts: list[str]
    orgs: list[OrgSample]
    databases: list[str]
    stores: list[str]
    server: str | None = None
    prefix: str | None = None

    @property
    def engine(self) -> str:
        return ENGINES[1] if self.server else ENGINES[0]

    @property
    def catalog(self) -> Path:
        """The catalog the sample was made from (a copy, so the sample stands on its own)."""
        return self.root / "catalog.yaml"

    @property
    def sources(self) -> dict[str, str]:
        """Connections database -> URL of the multi-tenant source."""
        return self.urls("source")

    @property
    def targets(self) -> dict[str, dict[str, str]]:
        """staging|production -> Connections database -> URL (created empty)."""
        return {target: self.urls(target) for target in TARGETS}

    def urls(self, side: str) -> dict[str, str]:
        """Connections database -> URL of one side, as a stack file holds them."""
        if self.server:
            return dict.fromkeys(self.databases, self.server_database(f"{self.prefix}_{side}"))
        return {name: f"sqlite:///{self.root / side / f'{name}.db'}" for name in self.databases}

    def server_database(self, name: str) -> str:
        """The server's URL with another database: its text kept as written, `${VARIABLE}` too."""
        parts = urlsplit(self.server)
        return urlunsplit(parts._replace(path=f"/{name}"))

    def filled(self, url: str) -> str:
        """A URL of the sample with its `${VARIABLE}` filled in, to open."""
        return database_urls({"": url}, self.root)[""]

    @property
    def content_stores(self) -> dict[str, Path]:
        """Content store -> its folder, where all orgs' binaries lie side by side."""
        return {store: self.root / "content" / store for store in self.stores}

    @property
    def org_ids(self) -> list[str]:
        return [org.org_id for org in self.orgs]

    def user_mapping(self, org_id: str) -> Path:
        """The org's cloud_id,target_id,email CSV; its last user is missing on purpose."""
        return self.root / "mappings" / f"users-{self.org(org_id).org_id}.csv"

    def org(self, org_id: str) -> OrgSample:
        for org in self.orgs:
            if org.org_id == org_id:
                return org
        raise OffboardError(f"the sample in {self.root} has no org {org_id} (orgs: {', '.join(self.org_ids)})")

    def save(self) -> None:
        document = {key: value for key, value in asdict(self).items() if key != "root"}
        (self.root / LAYOUT_FILE).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> SampleLayout:
        root = Path(directory).resolve()
        if not (root / LAYOUT_FILE).is_file():
            raise OffboardError(f"{root} holds no sample ({LAYOUT_FILE} missing): run `offboard sample create` first")
        raw = json.loads((root / LAYOUT_FILE).read_text(encoding="utf-8"))
        orgs = [OrgSample(o["org_id"], o["target_org_id"], [User(**u) for u in o["users"]]) for o in raw["orgs"]]
        return cls(root, raw["cloud_hosts"], orgs, raw["databases"], raw["stores"], raw.get("server"), raw.get("prefix"))


@dataclass
class Changes:
    """What a mutation did to one table: the keys inserted, updated and deleted."""

    inserted: list[tuple] = field(default_factory=list)
    updated: list[tuple] = field(default_factory=list)
    deleted: list[tuple] = field(default_factory=list)


def create_sample(directory: Path, orgs: int = 3, seed: int = 0, scale: int = 1, catalog_path: Path | None = None,
                  engine: str = "sqlite", server: str | None = None) -> SampleLayout:
    """Create the sample in `directory` (which must be empty or absent) and describe it: in SQLite
    files, or in new PostgreSQL databases on `server`, or without one on a throwaway cluster
    in `directory`/postgres."""
    root = Path(directory).resolve()
    if root.exists() and any(root.iterdir()):
        raise OffboardError(f"{root} is not empty: the sample needs a folder of its own")
    if not 1 <= orgs <= 50 or not 1 <= scale <= 1000:
        raise OffboardError("--orgs must be 1..50 and --scale 1..1000")
    check_engine(engine)
    if server:
        _check_server(server, engine)
    catalog = load_catalog(catalog_path or _REPOSITORY_CATALOG)
    rng = random.Random(seed)
    existed = root.exists()
    try:
        if engine == "postgresql" and not server:
            server = start_cluster(root / CLUSTER_FOLDER).url
        layout = SampleLayout(root, CLOUD_HOSTS, _make_orgs(rng, orgs, scale), list(catalog.databases), list(catalog.content_stores),
                              server, f"sample_{secrets.token_hex(4)}" if server else None)
        if layout.server:
            create_server_databases(layout, {f"{layout.prefix}_{side}": None for side in SIDES})
        _fill(layout, catalog, catalog_path or _REPOSITORY_CATALOG, rng, scale)
    except BaseException:
        _undo(root, existed)
        raise
    return layout


def check_engine(engine: str) -> None:
    if engine not in ENGINES:
        raise OffboardError(f"unknown engine {engine!r}: choose {' or '.join(ENGINES)}")


def _check_server(server: str, engine: str) -> None:
    if engine != "postgresql":
        raise OffboardError("--server names a PostgreSQL server: add --engine postgresql")
    try:
        scheme, password = make_url(server).get_backend_name(), holds_password(server)
    except ArgumentError:
        raise OffboardError(f"--server {mask_url(server)} is not a database URL (postgresql+psycopg://USER@HOST/postgres)") from None
    if scheme != "postgresql":
        raise OffboardError(f"--server {mask_url(server)} is not a PostgreSQL URL (postgresql+psycopg://USER@HOST/postgres)")
    if password:
        raise OffboardError("--server holds a password, which the stack file would keep: write ${VARIABLE} in its place "
                            "and set that variable")


def _undo(root: Path, existed: bool) -> None:
    """After a failed create: its cluster stopped, the folder (empty before) emptied again, or
    removed if the create made it. Databases made on a server of the user's are left there."""
    stop_cluster(root / CLUSTER_FOLDER)
    for path in root.iterdir() if root.exists() else ():
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    if not existed and root.exists():
        root.rmdir()


def _fill(layout: SampleLayout, catalog: Catalog, catalog_path: Path, rng: random.Random, scale: int) -> None:
    for folder in [*layout.content_stores.values(), layout.root / "mappings", *(layout.root / side for side in SIDES)]:
        folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(catalog_path, layout.catalog)
    for side in SIDES:
        _create_schema(catalog, {name: layout.filled(url) for name, url in layout.urls(side).items()})
    for org in layout.orgs:
        _write_mapping(org, layout.user_mapping(org.org_id))
        _fill_org(catalog, layout, org, rng, scale)
    layout.save()


def _make_orgs(rng: random.Random, count: int, scale: int) -> list[OrgSample]:
    org_ids = rng.sample(range(20_000_000, 29_999_999), count)
    made = []
    for index, org_id in enumerate(org_ids):
        domain = f"org{index + 1}.example.com"
        users = []
        for cloud_id in rng.sample(range(30_000_000, 99_999_999), _USERS * scale):
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            email = f"{first}.{last}.{cloud_id % 1000}@{domain}".lower()
            users.append(User(str(cloud_id), str(uuid.UUID(int=rng.getrandbits(128), version=4)), f"{first} {last}", email))
        made.append(OrgSample(str(org_id), str(700_000 + index + 1), users))
    return made


def _write_mapping(org: OrgSample, path: Path) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["cloud_id", "target_id", "email"])
        writer.writerows([u.cloud_id, u.target_id, u.email] for u in org.users[:-1])


def create_server_databases(layout: SampleLayout, names: dict[str, str | None]) -> None:
    """Create each database of `names` on the sample's server, as a copy of the database it maps
    to, or empty (None)."""
    engine = open_engine(layout.filled(layout.server))
    quote = engine.dialect.identifier_preparer.quote
    with database_errors(engine, "creating the sample's databases"), engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")  # CREATE DATABASE runs outside a transaction
        for name, template in names.items():
            connection.exec_driver_sql(f"CREATE DATABASE {quote(name)}" + (f" TEMPLATE {quote(template)}" if template else ""))


def _create_schema(catalog: Catalog, urls: dict[str, str]) -> None:
    for name, database in catalog.databases.items():
        engine = open_engine(urls[name], create=True)
        if engine.dialect.name != "sqlite":
            with engine.begin() as connection:
                for schema in dict.fromkeys(spec.schema_name for spec in database.tables.values()):
                    connection.execute(sa.schema.CreateSchema(schema, if_not_exists=True))
        for spec in database.tables.values():
            table = table_of(spec, engine)
            sa.Index(f"IX_{spec.name}_TENANT", table.c[spec.tenant])
            table.create(engine)
        engine.dispose()


def _is_people(spec: TableSpec) -> bool:
    """A table with a user-id column is an application's list of people: a row per user."""
    return bool(spec.references.users)


def _fill_org(catalog: Catalog, layout: SampleLayout, org: OrgSample, rng: random.Random, scale: int) -> None:
    maker = _RowMaker(rng, org, layout, keys={})
    for name, database in catalog.databases.items():
        engine = open_engine(layout.filled(layout.sources[name]))
        with engine.begin() as connection:
            for spec in database.tables.values():
                rows = [maker.row(spec, user) for user in org.users] if _is_people(spec) else maker.rows(spec, _ROWS.get(spec.qualified, _DEFAULT_ROWS) * scale)
                _insert(connection, spec, rows)
                maker.keys[spec.qualified] = [row[spec.key_positions[0]] for row in rows]
        engine.dispose()


def _insert(connection: sa.Connection, spec: TableSpec, rows: list[tuple]) -> None:
    if rows:
        executing(connection, sa.insert(table_of(spec, connection.engine)), spec.column_names)(rows)


class _RowMaker:
    """Plausible rows for any catalog table of one org."""

    def __init__(self, rng: random.Random, org: OrgSample, layout: SampleLayout, keys: dict[str, list]) -> None:
        self.rng = rng
        self.org = org
        self.layout = layout
        self.keys = keys  # table -> first key column's values of the org's rows, for _PARENTS

    def rows(self, spec: TableSpec, count: int) -> list[tuple]:
        rows, seen = [], set()
        for _ in range(count * 3):  # composite keys may repeat; try a few more times
            row = self.row(spec, self.rng.choice(self.org.users))
            key = tuple(row[i] for i in spec.key_positions)
            if key not in seen:
                seen.add(key)
                rows.append(row)
            if len(rows) == count:
                break
        return rows

    def row(self, spec: TableSpec, user: User) -> tuple:
        values: dict[str, object] = {}
        for column, type_text in spec.columns.items():
            values[column] = self.value(spec, column, type_text, user, values)
        return tuple(values.values())

    def value(self, spec: TableSpec, column: str, type_text: str, user: User, done: dict) -> object:
        rng, where = self.rng, f"{spec.qualified}.{column}"
        if column == spec.tenant or column in spec.references.orgs:
            return self.org.org_id
        if where in _PARENTS:
            parents = self.keys.get(_PARENTS[where]) or [None]
            return rng.choice(parents)
        if column in spec.key:
            return rng.randrange(1, 2**31) if is_integer_type(type_text) else str(uuid.UUID(int=rng.getrandbits(128), version=4))
        if column in spec.references.users:
            return user.cloud_id
        if spec.content and column == spec.content.locator:
            return self.binary(spec.content.store, done[spec.key[0]])
        if column in spec.references.links:
            return self.linked_text(column, type_text, user)
        if type_text == "TIMESTAMP":
            return (_EPOCH + timedelta(seconds=rng.randrange(0, 400 * 86400), microseconds=rng.randrange(10**6))).strftime(_TIMESTAMP)
        if column == "FILE_SIZE" and spec.content:
            return (self.layout.content_stores[spec.content.store] / done[spec.content.locator]).stat().st_size
        if is_integer_type(type_text):
            return rng.randrange(0, 4)
        if _is_people(spec) and "MAIL" in column:
            return user.email.lower() if column.endswith("LOWER") else user.email
        if _is_people(spec) and any(part in column for part in ("NAME", "DISPLAY")):
            return user.name
        roll = rng.random()
        if roll < 0.2:  # Connections leaves many optional columns NULL, and a few empty
            return None if roll < 0.17 else ""
        words = " ".join(rng.choice(_WORDS) for _ in range(rng.randrange(2, 6 if type_text != "CLOB" else 60)))
        return words[: _length(type_text)].capitalize()

    def linked_text(self, column: str, type_text: str, user: User) -> str:
        rng, host = self.rng, self.rng.choice(self.layout.cloud_hosts)
        someone = rng.choice(self.org.users)
        links = [
            f"https://{host}/profiles/html/profileView.do?userid={someone.cloud_id}",
            f"https://{host}/communities/service/html/communityview?communityUuid={uuid.UUID(int=rng.getrandbits(128))}",
            f"https://{host}/files/app#/file/{uuid.UUID(int=rng.getrandbits(128))}",
            f"https://{host}/wikis/home?lang=en-us#!/wiki/W{rng.getrandbits(32):08x}",
            f"https://{host}/communities/service/html/allcommunities?orgId={self.org.org_id}",
        ]
        if column == "URL" or _length(type_text) <= 256:
            return rng.choice(links)[: _length(type_text)]
        mention = (f'<span class="vcard"><a class="fn url" href="https://{host}/profiles/html/profileView.do?userid={user.cloud_id}">'
                   f'@{user.name}</a><span class="x-lconn-userid" style="display: none;">{user.cloud_id}</span></span>')
        parts = [f'{" ".join(rng.choice(_WORDS) for _ in range(8))} <a href="{link}">{rng.choice(_WORDS)}</a>' for link in rng.sample(links, 2)]
        text = f"<p>{parts[0]}, {mention} said: &quot;see {parts[1]}&quot; and https://www.example.org/{rng.choice(_WORDS)}</p>"
        return text[: _length(type_text)]

    def binary(self, store: str, key: str) -> str:
        relative = f"{key[:2]}/{key[2:4]}/{key}"
        path = self.layout.content_stores[store] / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.rng.randbytes(self.rng.randrange(200, 4000)))
        return relative


def _length(type_text: str) -> int:
    return int(type_text.split("(")[1].rstrip(")")) if "(" in type_text else 10**6


def mutate_org(directory: Path, org_id: str, seed: int = 1) -> dict[str, Changes]:
    """Change one org the way the weeks before cut-over do: new rows and files, edits (some that
    do not touch the change-time column, like an administrator's bulk fix), deletions with their
    files. People stay. Returns, per table, the keys inserted, updated and deleted."""
    layout = SampleLayout.load(directory)
    org = layout.org(org_id)
    catalog = load_catalog(layout.catalog)
    rng = random.Random(f"{seed}-{org_id}")
    maker = _RowMaker(rng, org, layout, keys={})
    changes: dict[str, Changes] = {}
    for name, database in catalog.databases.items():
        engine = open_engine(layout.filled(layout.sources[name]))
        with engine.begin() as connection:
            for spec in database.tables.values():
                existing = _org_rows(connection, spec, org_id)
                maker.keys[spec.qualified] = [row[spec.key_positions[0]] for row in existing]
                if not _is_people(spec) and existing:
                    changes[spec.qualified] = _mutate_table(connection, spec, existing, maker, layout)
        engine.dispose()
    return changes


def _org_rows(connection: sa.Connection, spec: TableSpec, org_id: str) -> list[tuple]:
    return [row for batch in org_batches(connection, spec, org_id) for row in batch]


def _execute(connection: sa.Connection, statement: sa.Executable, values: dict[str, object]) -> None:
    executing(connection, statement, list(values))([list(values.values())])


def _mutate_table(connection: sa.Connection, spec: TableSpec, existing: list[tuple], maker: _RowMaker, layout: SampleLayout) -> Changes:
    rng, changes = maker.rng, Changes()
    picked = rng.sample(existing, min(len(existing), max(2, len(existing) // 5)))
    to_update, to_delete = picked[: len(picked) // 2 + 1], picked[len(picked) // 2 + 1:]
    key_of: Callable[[tuple], tuple] = lambda row: tuple(row[i] for i in spec.key_positions)  # noqa: E731
    taken = {key_of(row) for row in existing}
    new_rows = [row for row in maker.rows(spec, max(1, len(existing) // 8)) if key_of(row) not in taken]
    _insert(connection, spec, new_rows)
    changes.inserted = [key_of(row) for row in new_rows]
    edited = _editable_column(spec)
    if edited:
        for number, row in enumerate(to_update):
            # The first edit leaves the change-time column alone, as an administrator's fix would.
            stamp = spec.changed if spec.changed and number > 0 else None
            _update(connection, spec, row, edited, stamp, maker, layout)
            changes.updated.append(key_of(row))
    for row in to_delete:
        _delete(connection, spec, row, layout)
        changes.deleted.append(key_of(row))
    return changes


def _editable_column(spec: TableSpec) -> str | None:
    """A text column a user would edit: not a key, tenant, reference to another row, or locator."""
    fixed = {spec.tenant, *spec.key, *spec.references.users, *spec.references.orgs, *(c for c in spec.columns if f"{spec.qualified}.{c}" in _PARENTS)}
    if spec.content:
        fixed.add(spec.content.locator)
    # Not a CHAR(n): an id more likely, and padded to its length on DB2 and PostgreSQL, so that an
    # edit appended to it would be cut off again.
    return next((c for c, t in spec.columns.items() if c not in fixed and is_text_type(t) and not t.startswith("CHAR(")), None)


def _update(connection: sa.Connection, spec: TableSpec, row: tuple, column: str, stamp: str | None, maker: _RowMaker, layout: SampleLayout) -> None:
    values = {column: f"{row[spec.column_names.index(column)] or ''} (edited)"[: _length(spec.columns[column])]}
    if stamp:
        values[stamp] = (_EPOCH + timedelta(days=500)).strftime(_TIMESTAMP)
    if spec.content:  # a new version of the binary
        path = layout.content_stores[spec.content.store] / row[spec.column_names.index(spec.content.locator)]
        path.write_bytes(maker.rng.randbytes(maker.rng.randrange(200, 4000)))
        if "FILE_SIZE" in spec.columns:
            values["FILE_SIZE"] = path.stat().st_size
    statement = update_columns(table_of(spec, connection.engine), spec.tenant, spec.key, list(values), maker.org.org_id)
    _execute(connection, statement, {**{f"set_{c}": v for c, v in values.items()}, **{f"key_{k}": row[i] for k, i in zip(spec.key, spec.key_positions)}})


def _delete(connection: sa.Connection, spec: TableSpec, row: tuple, layout: SampleLayout) -> None:
    statement = delete_keys(table_of(spec, connection.engine), spec.tenant, spec.key, row[spec.tenant_position])
    _execute(connection, statement, {k: row[i] for k, i in zip(spec.key, spec.key_positions)})
    if spec.content:
        (layout.content_stores[spec.content.store] / row[spec.column_names.index(spec.content.locator)]).unlink(missing_ok=True)
