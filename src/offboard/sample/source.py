"""A synthetic multi-tenant Connections source, deterministic for a seed.

On SQLite, one file per Connections database; on PostgreSQL, one database per side (source,
staging, production) with a schema per Connections schema, as on DB2 a schema per application.
Every catalog table holds rows of several orgs; content stores where all orgs' binaries lie
side by side; empty staging and production targets of the same schema; per org a user mapping
as the MSP's directory sync would produce it (one user left out on purpose, as happens), and one
or two guests whose home org is another one. Rows come from the catalog, for any format-2
catalog: every column type gets plausible values (binary ids, BLOBs whose bytes break naive text
handling, HTML bodies linking to the cloud hosts, non-ASCII names); a `parents` column holds the
key of a row of the same org in its parent table; an `ensure` table holds exactly one row per
org; every content row has its binaries in its store. The PostgreSQL targets enforce `parents`
(and a tenant column named as its database's ensure table's key) with foreign keys, as the
product's databases do: a load in the wrong order fails there. The source has none: the weeks
before cut-over (`mutate_org`) delete its rows freely, though only rows nothing else of the org
references.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
import secrets
import shutil
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from offboard.customer import database_urls, holds_password
from offboard.db.bulk import executing
from offboard.db.catalog import CATALOG_FILE, Catalog, DatabaseSpec, TableSpec, load_catalog
from offboard.db.connect import database_errors, open_engine, table_of
from offboard.db.content import binary_path
from offboard.db.scan import org_batches
from offboard.db.statements import delete_keys, update_columns
from offboard.db.types import INTEGER_RANGE, ColumnType
from offboard.errors import OffboardError
from offboard.masking import mask_url
from offboard.sample.cluster import start_cluster, stop_cluster

LAYOUT_FILE = "sample.json"
CLOUD_HOSTS = ["apps.na.collabserv.com", "apps.ce.collabserv.com"]
TARGETS = ("staging", "production")
SIDES = ("source", *TARGETS)
ENGINES = ("sqlite", "postgresql")
SAMPLE_RELEASE = "8.0.0.0"  # every database's schema release, the same on every side
CLUSTER_FOLDER = "postgres"  # a sample's own PostgreSQL cluster, when no server was given
_REPOSITORY_CATALOG = Path(__file__).resolve().parents[3] / "runbooks" / CATALOG_FILE
_EPOCH = datetime(2023, 1, 2, 8, 0, 0)
_TIMESTAMP = "%Y-%m-%d %H:%M:%S.%f"

_USERS = 12
_ROWS_PER_ORG = 480  # about as many rows per org at scale 1, spread over the tables that are not people
_FIRST = ["Anna", "Ben", "Chiara", "David", "Elif", "Femi", "Greta", "Hugo", "Ines", "Jonas", "Kira", "Lars", "Mona", "Nils"]
_LAST = ["Auer", "Brandt", "Costa", "Dietrich", "Eder", "Fuchs", "Graf", "Hahn", "Iversen", "Jung", "Kraus", "Lang"]
# Every org's first people: names with ü, é, ß and in CJK (name, mail name), for text that is not ASCII.
_NAMES = [("Jürgen Müller", "juergen.mueller"), ("Renée Lefèvre", "renee.lefevre"), ("Ulrike Strauß", "ulrike.strauss"),
          ("王芳", "wang.fang")]
_WORDS = ("budget plan review draft launch meeting notes roadmap customer team quarterly report design "
          "release travel policy onboarding training workshop agenda minutes proposal summary").split()
# In every BLOB: NUL, LF, CR LF, a double quote, a comma, and bytes no UTF-8 decoder takes (ff fe, a lone 80).
NASTY_BYTES = b'\x00\n\r\n",\xff\xfeA\x80Z'
_JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01"
_GUEST_FLAGS = ("ISEXTERNAL", "IS_EXTERNAL")  # a column whose name ends so marks a guest (1) or a member (0)


@dataclass(frozen=True)
class User:
    cloud_id: str
    target_id: str
    name: str
    email: str
    home_org: str | None = None  # a guest's own org (another sample org's id, or a made-up one)


@dataclass(frozen=True)
class OrgSample:
    org_id: str
    target_org_id: str  # the id the MSP gives the org
    users: list[User]
    guests: list[str] = field(default_factory=list)  # cloud ids of the users who are guests from another org


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
        orgs = [OrgSample(o["org_id"], o["target_org_id"], [User(**u) for u in o["users"]], o.get("guests", [])) for o in raw["orgs"]]
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
        _create_schema(catalog, {name: layout.filled(url) for name, url in layout.urls(side).items()}, foreign_keys=side in TARGETS)
    counts, used = _row_counts(catalog, scale), {}  # used: the keys of every org, as a key is unique across orgs
    with _connected(layout, catalog, "source") as connections:
        for org in layout.orgs:
            _write_mapping(org, layout.user_mapping(org.org_id))
            _fill_org(_RowMaker(rng, org, layout, catalog, used), connections, counts)
    layout.save()


def _make_orgs(rng: random.Random, count: int, scale: int) -> list[OrgSample]:
    """The orgs and their people: every org's first ones with names that are not ASCII, one or two
    guests from another org (never the last user, whom the mapping leaves out)."""
    org_ids = [str(org_id) for org_id in rng.sample(range(20_000_000, 29_999_999), count)]
    made = []
    for index, org_id in enumerate(org_ids):
        cloud_ids = rng.sample(range(30_000_000, 99_999_999), _USERS * scale)
        # The first guest comes from another org of the sample (if there is one), a second one from
        # an org outside it (None).
        others = [i for i in range(count) if i != index]
        guests = dict.fromkeys(sorted(rng.sample(range(len(_NAMES), len(cloud_ids) - 1), rng.choice((1, 2)))))
        guests.update(zip(guests, [rng.choice(others) if others else None, None]))
        users = []
        for position, cloud_id in enumerate(cloud_ids):
            if position < len(_NAMES):
                name, mail_name = _NAMES[position]
            else:
                first, last = rng.choice(_FIRST), rng.choice(_LAST)
                name, mail_name = f"{first} {last}", f"{first}.{last}".lower()
            home_org, domain = None, f"org{index + 1}.example.com"
            if position in guests:
                home = guests[position]
                home_org = org_ids[home] if home is not None else str(rng.randrange(10_000_000, 19_999_999))
                domain = f"org{home + 1}.example.com" if home is not None else "guest.example.net"
            users.append(User(str(cloud_id), str(uuid.UUID(int=rng.getrandbits(128), version=4)), name,
                              f"{mail_name}.{cloud_id % 1000}@{domain}", home_org))
        made.append(OrgSample(org_id, str(700_000 + index + 1), users, [users[p].cloud_id for p in sorted(guests)]))
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


def _create_schema(catalog: Catalog, urls: dict[str, str], foreign_keys: bool) -> None:
    """Every catalog table, empty, with an index on its tenant column; with `foreign_keys`, on
    PostgreSQL, the product's foreign keys too. The DDL of a database goes in one transaction
    (sqlite3 would sync each statement to disk on its own, 20 ms apiece) and, on PostgreSQL, in
    one round trip: a side's DDL is hundreds of statements."""
    for url in dict.fromkeys(urls.values()):
        engine = open_engine(url, create=True)
        dialect, quote = engine.dialect, engine.dialect.identifier_preparer.quote
        statements = []
        for name, database in catalog.databases.items():
            if urls[name] != url:
                continue
            if dialect.name != "sqlite":
                statements += [f"CREATE SCHEMA IF NOT EXISTS {quote(schema)}"
                               for schema in dict.fromkeys(spec.schema_name for spec in database.tables.values())]
            for spec in database.tables.values():
                table = _table(spec, dialect)
                index = sa.Index(f"IX_{spec.name}_TENANT", table.c[spec.tenant])
                statements += [str(sa.schema.CreateTable(table).compile(dialect=dialect)).strip(),
                               str(sa.schema.CreateIndex(index).compile(dialect=dialect))]
            if foreign_keys and dialect.name == "postgresql":
                statements += foreign_key_statements(database, dialect)
            statements += _release_statements(database, dialect)
        with engine.begin() as connection:
            cursor = connection.connection.cursor()
            if dialect.name == "sqlite":
                cursor.execute("BEGIN")
                for statement in statements:
                    cursor.execute(statement)
            else:
                cursor.execute(";\n".join(statements))
        engine.dispose()


def _release_statements(database: DatabaseSpec, dialect: sa.Dialect) -> list[str]:
    """The table where the database records its schema release, with the same release on every
    side (what `offboard catalog check` compares), when the catalog names one."""
    release = database.release
    if release is None:
        return []
    schema, name = release.table.split(".")
    columns = [*release.where, release.column]
    table = sa.Table(name, sa.MetaData(), *(sa.Column(column, sa.VARCHAR(128)) for column in columns),
                     schema=None if dialect.name == "sqlite" else schema)
    row = sa.insert(table).values({**release.where, release.column: SAMPLE_RELEASE})
    return [str(sa.schema.CreateTable(table).compile(dialect=dialect)).strip(),
            str(row.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))]


def foreign_key_statements(database: DatabaseSpec, dialect: sa.Dialect) -> list[str]:
    """ALTER TABLE statements adding the foreign keys of one Connections database: every `parents`
    column whose parent table lies in the same database (DB2 has none across databases), and the
    tenant column of a table named as the key of an ensure table (HOMEPAGE's ORGANIZATION_ID ->
    MT_ORGANIZATION). A table referencing itself (a page tree) is checked at commit: its rows come
    in key order, a child before its parent as often as not."""
    preparer = dialect.identifier_preparer
    tables = {spec.qualified: spec for spec in database.tables.values()}
    ensured = [spec for spec in tables.values() if spec.ensure]
    statements = []
    for spec in tables.values():
        links = dict.fromkeys((column, parent) for column, parent in spec.parents.items() if parent in tables)
        links.update(dict.fromkeys((spec.tenant, own.qualified) for own in ensured if own is not spec and own.key == [spec.tenant]))
        for column, qualified in links:
            parent = tables[qualified]
            name = f"FK_{spec.name}_{column}"
            if len(name) > 63:  # PostgreSQL's longest identifier
                name = f"FK_{hashlib.sha256(f'{spec.qualified}.{column}'.encode()).hexdigest()[:16]}"
            statements.append(
                f"ALTER TABLE {preparer.format_table(_table(spec, dialect))} ADD CONSTRAINT {preparer.quote(name)} "
                f"FOREIGN KEY ({preparer.quote(column)}) REFERENCES {preparer.format_table(_table(parent, dialect))} "
                f"({preparer.quote(parent.key[0])})" + (" DEFERRABLE INITIALLY DEFERRED" if parent is spec else ""))
    return statements


@contextmanager
def _connected(layout: SampleLayout, catalog: Catalog, side: str) -> Iterator[dict[str, sa.Connection]]:
    """Connections database -> a connection to it, in a transaction committed at the end (on
    PostgreSQL all databases of a side are one, and so is the connection)."""
    urls = {name: layout.filled(layout.urls(side)[name]) for name in catalog.databases}
    with ExitStack() as stack:
        opened: dict[str, sa.Connection] = {}
        for url in dict.fromkeys(urls.values()):
            engine = open_engine(url)
            stack.callback(engine.dispose)
            opened[url] = stack.enter_context(engine.begin())
        yield {name: opened[url] for name, url in urls.items()}


def _is_people(spec: TableSpec) -> bool:
    """A table with a user-id column and no parent is an application's list of people: a row per user."""
    return bool(spec.references.users) and not spec.parents and not spec.ensure


def _row_counts(catalog: Catalog, scale: int) -> dict[str, int | None]:
    """Rows per org of each table: one in an ensure table, one per user (None) in a people table,
    and in the others as many as spread a few hundred rows per org over them."""
    tables = catalog.tables()
    others = [spec for spec in tables if not spec.ensure and not _is_people(spec)]
    each = max(6, min(24, _ROWS_PER_ORG // max(1, len(others))))
    return {spec.qualified: 1 if spec.ensure else None if _is_people(spec) else each * scale for spec in tables}


def _fill_org(maker: _RowMaker, connections: dict[str, sa.Connection], counts: dict[str, int | None]) -> None:
    for spec in maker.catalog.tables():  # parents first
        count = counts[spec.qualified]
        if spec.ensure:
            rows = [maker.make(spec, maker.org.users[0])]
        elif count is None:
            rows = [maker.make(spec, user) for user in maker.org.users]
        else:
            rows = maker.rows(spec, count)
        _insert(connections[spec.database], spec, rows)


def _insert(connection: sa.Connection, spec: TableSpec, rows: list[tuple]) -> None:
    if rows:
        executing(connection, sa.insert(_table(spec, connection.dialect)), spec.column_names)(_bindable(connection, rows))


_TABLES: OrderedDict[tuple[int, str], tuple[TableSpec, sa.Table]] = OrderedDict()


def _table(spec: TableSpec, dialect: sa.Dialect) -> sa.Table:
    """table_of, made once per table and engine: a sample makes a catalog's tables a dozen times
    over (a tenth of its time). The most recent few hundred are kept; an entry keeps its spec
    alive, so that no other spec can take over its id while it is kept."""
    key = (id(spec), dialect.name)
    if key in _TABLES and _TABLES[key][0] is spec:
        _TABLES.move_to_end(key)
        return _TABLES[key][1]
    _TABLES[key] = (spec, table_of(spec, dialect))
    if len(_TABLES) > 400:
        _TABLES.popitem(last=False)
    return _TABLES[key][1]


def _bindable(connection: sa.Connection, rows: list[tuple]) -> list[tuple]:
    """sqlite3 binds no Decimal: it gets the number's text (NUMERIC affinity stores it as a number)."""
    if connection.dialect.name != "sqlite":
        return rows
    return [tuple(str(v) if isinstance(v, Decimal) else v for v in row) for row in rows]


def _plain(value: object) -> object:
    """A key value as generated: DB2 and PostgreSQL give CHAR(n) back padded with blanks."""
    return value.rstrip(" ") if isinstance(value, str) else value


def _fit(text: str, column_type: ColumnType) -> str:
    """`text` cut to the column's length in bytes of UTF-8, never inside a character."""
    if column_type.length is None or len(text) * 4 <= column_type.length:
        return text
    return text.encode()[: column_type.length].decode("utf-8", "ignore")


def _blob_columns(spec: TableSpec) -> list[str]:
    return [column for column, column_type in spec.types.items() if column_type.kind == "BLOB"]


def _size_columns(spec: TableSpec) -> list[str]:
    """The integer columns of a content table holding its binary's size (FILE_SIZE, FILESIZE, SIZE)."""
    if not spec.content:
        return []
    return [column for column, column_type in spec.types.items() if column_type.is_integer and column.endswith("SIZE")]


class _RowMaker:
    """Plausible rows for any catalog table of one org, and their binaries."""

    def __init__(self, rng: random.Random, org: OrgSample, layout: SampleLayout, catalog: Catalog, used: dict[str, set]) -> None:
        self.rng = rng
        self.org = org
        self.layout = layout
        self.catalog = catalog
        self.keys: dict[str, list] = {}  # table -> first key column's values of the org's rows, for `parents`
        self.used = used  # table -> the keys of its rows of every org, since a key is unique in the table
        self._derived: dict[str, set[str]] = {}  # table -> columns `finish` fills in
        self._folders: set[Path] = set()  # made already

    def rows(self, spec: TableSpec, count: int) -> list[tuple]:
        rows, used = [], self.used.setdefault(spec.qualified, set())
        for _ in range(count * 3):  # composite keys and keys that are parents may repeat; try a few more times
            values = self.values(spec, self.rng.choice(self.org.users))
            if tuple(values[k] for k in spec.key) not in used:
                rows.append(self.finish(spec, values))
            if len(rows) == count:
                break
        return rows

    def make(self, spec: TableSpec, user: User) -> tuple:
        return self.finish(spec, self.values(spec, user))

    def values(self, spec: TableSpec, user: User) -> dict[str, object]:
        people = _is_people(spec)
        if spec.qualified not in self._derived:
            locators = [c for c in spec.content.columns if c != spec.content.id] if spec.content else []
            self._derived[spec.qualified] = {*locators, *_size_columns(spec)}
        derived = self._derived[spec.qualified]
        return {column: None if column in derived else self.value(spec, column, column_type, user, people)
                for column, column_type in spec.types.items()}

    def finish(self, spec: TableSpec, values: dict[str, object]) -> tuple:
        """The row, its key kept for the rows referencing it, its binaries written into its store."""
        self.keys.setdefault(spec.qualified, []).append(values[spec.key[0]])
        self.used.setdefault(spec.qualified, set()).add(tuple(values[k] for k in spec.key))
        if spec.content:
            self.locate(spec, values)
            sizes = []
            for relative in _content_files(self.catalog, self.layout, spec, values, self.rng):
                data = self.rng.randbytes(self.rng.randrange(200, 4000))
                path = self.layout.content_stores[spec.content.store] / relative
                if path.parent not in self._folders:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    self._folders.add(path.parent)
                path.write_bytes(data)
                sizes.append(len(data))
            values.update(dict.fromkeys(_size_columns(spec), sizes[0]))
        return tuple(values.values())

    def locate(self, spec: TableSpec, values: dict[str, object]) -> None:
        """The row's path columns: `<2 hex>/<the row's id or a uuid>` in the first, a folder of two
        hex digits in any between, a file name in the last of several; or its folder column, a
        name of its own (a weblog's handle). An id column was made with the row: the store's
        layout names its binary."""
        if spec.content.folder:
            values[spec.content.folder] = _fit(f"{self.rng.choice(_WORDS)}-{self.rng.getrandbits(48):012x}", spec.types[spec.content.folder])
        columns = spec.content.path or []
        first = values[spec.key[0]]
        name = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        if len(spec.key) == 1 and isinstance(first, bytes) and len(first) == 16:
            name = str(uuid.UUID(bytes=first))
        elif len(spec.key) == 1 and isinstance(first, (str, int)) and str(first).replace("-", "").isalnum():
            name = str(first)
        parts = [f"{self.rng.getrandbits(8):02x}/{name}", *(f"{self.rng.getrandbits(8):02x}" for _ in columns[2:])]
        if len(columns) > 1:
            parts.append(f"{self.rng.choice(_WORDS)}-{self.rng.randrange(1000)}.bin")
        for column, part in zip(columns, parts):
            room = spec.types[column].length
            if len(part) > room:  # a short column: a shorter name
                part = f"{part[:3]}{self.rng.getrandbits(128):032x}"[:room] if column == columns[0] else part[-room:]
            values[column] = part

    def value(self, spec: TableSpec, column: str, column_type: ColumnType, user: User, people: bool) -> object:
        rng, kind = self.rng, column_type.kind
        if column == spec.tenant:
            return self.org.org_id
        if column in spec.references.orgs:  # a guest's home org in a list of people, else the org's own id
            return _fit(user.home_org if people and user.home_org else self.org.org_id, column_type)
        if column in spec.parents:
            return self.parent(spec, column, column_type)
        if column in spec.key or (spec.content and column == spec.content.id):
            return self.unique(column_type)
        if column in spec.references.users:
            return _fit(user.cloud_id, column_type)
        if column.endswith(_GUEST_FLAGS) and (column_type.is_integer or kind in ("CHAR", "VARCHAR")):
            flag = int(people and user.home_org is not None)
            return flag if column_type.is_integer else str(flag)
        if column in spec.references.links:
            return self.linked_text(column, column_type, user)
        if kind == "TIMESTAMP":
            return (_EPOCH + timedelta(seconds=rng.randrange(0, 400 * 86400), microseconds=rng.randrange(10**6))).strftime(_TIMESTAMP)
        if kind == "DATE":
            return (_EPOCH.date() + timedelta(days=rng.randrange(-15_000, 400))).isoformat()
        if kind == "TIME":
            return f"{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}"
        roll = rng.random()
        if roll < 0.08 and kind != "BLOB" and not column_type.is_integer:
            return None  # Connections leaves many optional columns NULL
        if kind == "DOUBLE":
            if roll < 0.35:
                return -rng.uniform(0, 1e6)
            return rng.randrange(-4000, 4000) / 8 if roll < 0.5 else rng.random() * 10.0 ** rng.randrange(-6, 12)
        if kind == "DECIMAL":
            return self.decimal(column_type, negative=roll < 0.3)
        if kind == "BLOB":
            return None if roll < 0.06 else self.blob(column, column_type)
        if kind == "BINARY":
            return rng.randbytes(column_type.length)
        if kind == "VARBINARY":  # activity stream metadata: some a few bytes, some longer
            size = rng.randrange(1, 5) if roll < 0.4 else rng.randrange(5, max(6, min(column_type.length, 200) + 1))
            return rng.randbytes(min(size, column_type.length))
        if column_type.is_integer:
            return rng.randrange(0, 4)
        if people and "MAIL" in column:
            return _fit(user.email.lower() if column.endswith("LOWER") else user.email, column_type)
        if people and any(part in column for part in ("NAME", "DISPLAY")):
            return _fit(user.name, column_type)
        if roll < 0.12:
            return ""
        words = " ".join(rng.choice(_WORDS) for _ in range(rng.randrange(2, 60 if kind == "CLOB" else 6)))
        return _fit(words.capitalize(), column_type)

    def parent(self, spec: TableSpec, column: str, column_type: ColumnType) -> object:
        """The key of one of the org's rows of the parent table; in a table referencing itself, of
        an earlier row, or NULL (a root). Only the first two thirds of the parent's rows get
        children, so that every table keeps rows nothing references (leaves a mutation may delete)."""
        keys = self.keys.get(spec.parents[column]) or []
        if not keys or (spec.parents[column] == spec.qualified and self.rng.random() < 0.3):
            return None
        value = _plain(keys[self.rng.randrange((2 * len(keys) + 2) // 3)])
        if column_type.is_binary and isinstance(value, str):
            return value.encode()
        if column_type.is_text and isinstance(value, bytes):
            return str(uuid.UUID(bytes=value)) if len(value) == 16 else value.hex()
        return str(value) if column_type.is_text and not isinstance(value, str) else value

    def unique(self, column_type: ColumnType) -> object:
        """A key value, unique with near certainty: 16 random bytes for a CHAR(16) FOR BIT DATA id."""
        rng, kind = self.rng, column_type.kind
        if kind == "BINARY":
            return rng.randbytes(column_type.length)
        if kind == "VARBINARY":
            return rng.randbytes(min(column_type.length, 16))
        if column_type.is_integer:
            return rng.randrange(1, min(INTEGER_RANGE[kind], 1 << 31))
        if kind == "DECIMAL":
            return self.decimal(column_type, negative=False)
        if kind == "DATE":
            return (_EPOCH.date() + timedelta(days=rng.randrange(-30_000, 30_000))).isoformat()
        if kind == "TIME":
            return f"{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}"
        if column_type.length >= 36:
            return str(uuid.UUID(int=rng.getrandbits(128), version=4))
        return f"{rng.getrandbits(4 * column_type.length):0{column_type.length}x}"

    def decimal(self, column_type: ColumnType, negative: bool) -> Decimal:
        """A DECIMAL(p,s) value with at most 15 digits (what SQLite keeps of a number)."""
        digits = min(column_type.precision, 15)
        scale = min(column_type.scale, digits)
        value = Decimal(self.rng.randrange(10**digits)).scaleb(-scale)
        return -value if negative else value

    def blob(self, column: str, column_type: ColumnType) -> bytes:
        """A few hundred bytes to a few KB, every one holding NASTY_BYTES somewhere (a photo starts
        as a JPEG does)."""
        size = min(column_type.length, self.rng.randrange(300, 4000))
        head = _JPEG if any(part in column for part in ("PHOTO", "IMAGE", "THUMB")) else b""
        body = self.rng.randbytes(max(0, size - len(head) - len(NASTY_BYTES)))
        cut = self.rng.randrange(len(body) + 1)
        return (head + body[:cut] + NASTY_BYTES + body[cut:])[: column_type.length]

    def linked_text(self, column: str, column_type: ColumnType, user: User) -> str:
        rng, host = self.rng, self.rng.choice(self.layout.cloud_hosts)
        someone = rng.choice(self.org.users)
        links = [
            f"https://{host}/profiles/html/profileView.do?userid={someone.cloud_id}",
            f"https://{host}/communities/service/html/communityview?communityUuid={uuid.UUID(int=rng.getrandbits(128))}",
            f"https://{host}/files/app#/file/{uuid.UUID(int=rng.getrandbits(128))}",
            f"https://{host}/wikis/home?lang=en-us#!/wiki/W{rng.getrandbits(32):08x}",
            f"https://{host}/communities/service/html/allcommunities?orgId={self.org.org_id}",
        ]
        if column.endswith("URL") or (column_type.length or 0) <= 256:
            return _fit(rng.choice(links), column_type)
        mention = (f'<span class="vcard"><a class="fn url" href="https://{host}/profiles/html/profileView.do?userid={user.cloud_id}">'
                   f'@{user.name}</a><span class="x-lconn-userid" style="display: none;">{user.cloud_id}</span></span>')
        parts = [f'{" ".join(rng.choice(_WORDS) for _ in range(8))} <a href="{link}">{rng.choice(_WORDS)}</a>' for link in rng.sample(links, 2)]
        text = f"<p>{parts[0]}, {mention} said: &quot;see {parts[1]}&quot; and https://www.example.org/{rng.choice(_WORDS)}</p>"
        return _fit(text, column_type)


def mutate_org(directory: Path, org_id: str, seed: int = 1) -> dict[str, Changes]:
    """Change one org the way the weeks before cut-over do: new rows and binaries (a new revision
    among them), edits (some that do not touch the change-time column, like an administrator's
    bulk fix; a changed photo; a new version of a binary), deletions with their binaries (an
    attachment among them) of rows nothing else of the org references. People and the org's own
    rows (ensure) stay; a list of people only gets a changed BLOB. Returns, per table, the keys
    inserted, updated and deleted."""
    layout = SampleLayout.load(directory)
    org = layout.org(org_id)
    catalog = load_catalog(layout.catalog)
    changes: dict[str, Changes] = {}
    with _connected(layout, catalog, "source") as connections:
        used = {spec.qualified: _all_keys(connections[spec.database], spec) for spec in catalog.tables()}
        maker = _RowMaker(random.Random(f"{seed}-{org_id}"), org, layout, catalog, used)
        existing = {spec.qualified: _org_rows(connections[spec.database], spec, org_id) for spec in catalog.tables()}
        referenced = _referenced(catalog, existing)
        for spec in catalog.tables():  # parents first: a new row references what is left of its parent table
            rows = existing[spec.qualified]
            maker.keys[spec.qualified] = [row[spec.key_positions[0]] for row in rows]
            if spec.ensure or not rows:
                continue
            connection = connections[spec.database]
            if not _is_people(spec):
                changes[spec.qualified] = _mutate_table(connection, spec, rows, referenced[spec.qualified], maker)
            elif _blob_columns(spec):
                changes[spec.qualified] = Changes(updated=_update_rows(connection, spec, maker.rng.sample(rows, min(2, len(rows))), maker))
    return changes


def _org_rows(connection: sa.Connection, spec: TableSpec, org_id: str) -> list[tuple]:
    return [row for batch in org_batches(connection, spec, org_id) for row in batch]


def _all_keys(connection: sa.Connection, spec: TableSpec) -> set[tuple]:
    """The keys of the table's rows of every org."""
    table = _table(spec, connection.dialect)
    return {tuple(map(_plain, row)) for row in connection.execute(sa.select(*(table.c[k] for k in spec.key)))}


def _referenced(catalog: Catalog, existing: dict[str, list[tuple]]) -> dict[str, set]:
    """Table -> the keys of its rows that a row of the org (of any table) references."""
    found: dict[str, set] = {spec.qualified: set() for spec in catalog.tables()}
    for spec in catalog.tables():
        for column, parent in spec.parents.items():
            position = spec.column_names.index(column)
            found[parent].update(_plain(row[position]) for row in existing[spec.qualified] if row[position] is not None)
    return found


def _execute(connection: sa.Connection, statement: sa.Executable, values: dict[str, object]) -> None:
    executing(connection, statement, list(values))(_bindable(connection, [tuple(values.values())]))


def _mutate_table(connection: sa.Connection, spec: TableSpec, existing: list[tuple], referenced: set, maker: _RowMaker) -> Changes:
    rng, changes = maker.rng, Changes()
    key_of: Callable[[tuple], tuple] = lambda row: tuple(row[i] for i in spec.key_positions)  # noqa: E731
    free = [row for row in existing if _plain(row[spec.key_positions[0]]) not in referenced]
    to_delete = rng.sample(free, min(len(free), max(1, len(existing) // 10), len(existing) - 1))
    gone = set(map(key_of, to_delete))
    kept = [row for row in existing if key_of(row) not in gone]
    maker.keys[spec.qualified] = [row[spec.key_positions[0]] for row in kept]  # what new rows may reference
    new_rows = maker.rows(spec, max(1, len(existing) // 8))
    _insert(connection, spec, new_rows)
    changes.inserted = [key_of(row) for row in new_rows]
    changes.updated = _update_rows(connection, spec, rng.sample(kept, min(len(kept), max(2, len(existing) // 8))), maker)
    for row in to_delete:
        _delete(connection, spec, row, maker)
        changes.deleted.append(key_of(row))
    return changes


def _editable_column(spec: TableSpec) -> str | None:
    """A text column a user would edit: not a key, tenant, reference to another row, or locator."""
    fixed = {spec.tenant, *spec.key, *spec.references.users, *spec.references.orgs, *spec.parents}
    if spec.content:
        fixed.update(spec.content.columns)
    # Not a CHAR(n): an id more likely, and padded to its length on DB2 and PostgreSQL, so that an
    # edit appended to it would be cut off again.
    return next((c for c, t in spec.types.items() if c not in fixed and t.kind in ("VARCHAR", "CLOB")), None)


def _update_rows(connection: sa.Connection, spec: TableSpec, rows: list[tuple], maker: _RowMaker) -> list[tuple]:
    """Edit each row: its text, its first BLOB (a changed photo), its binary (a new version). The
    first edit leaves the change-time column alone, as an administrator's fix would. Returns the
    keys of the rows whose values changed."""
    edited, blobs, sizes = _editable_column(spec), _blob_columns(spec), _size_columns(spec)
    updated = []
    for number, row in enumerate(rows):
        values: dict[str, object] = {}
        if edited and not _is_people(spec):
            values[edited] = _edited(row[spec.column_names.index(edited)], spec.types[edited])
        if blobs:
            values[blobs[0]] = maker.blob(blobs[0], spec.types[blobs[0]])
        files = _content_files(maker.catalog, maker.layout, spec, dict(zip(spec.column_names, row))) if spec.content else []
        if files and (values or sizes):  # a new version of the binary, of another size
            old = row[spec.column_names.index(sizes[0])] if sizes else None
            data = maker.rng.randbytes(maker.rng.choice([n for n in range(200, 4000, 97) if n != old]))
            (maker.layout.content_stores[spec.content.store] / files[0]).write_bytes(data)
            values.update(dict.fromkeys(sizes, len(data)))
        if not values:
            continue
        if spec.changed and number > 0:
            values[spec.changed] = (_EPOCH + timedelta(days=500)).strftime(_TIMESTAMP)
        statement = update_columns(_table(spec, connection.dialect), spec.tenant, spec.key, list(values), maker.org.org_id)
        _execute(connection, statement, {**{f"set_{c}": v for c, v in values.items()},
                                         **{f"key_{k}": row[i] for k, i in zip(spec.key, spec.key_positions)}})
        updated.append(tuple(row[i] for i in spec.key_positions))
    return updated


def _content_files(catalog: Catalog, layout: SampleLayout, spec: TableSpec, values: dict[str, object],
                   rng: random.Random | None = None) -> list[str]:
    """The paths, inside the row's store, of the row's binaries: the one its path columns spell or
    its id names, or the files in its folder (with `rng`: one to three new ones, named at random;
    without it: those there are)."""
    content = spec.content
    if content.id:
        return [binary_path(catalog.content_stores[content.store].layout, values[content.id])]
    path = "/".join(str(values[column]).rstrip(" ").strip("/") for column in content.columns)
    if content.path:
        return [path]
    if rng:
        return [f"{path}/{rng.choice(_WORDS)}-{number}.{rng.choice(('png', 'pdf', 'html'))}" for number in range(rng.randrange(1, 4))]
    folder = layout.content_stores[content.store] / path
    return sorted(p.relative_to(layout.content_stores[content.store]).as_posix() for p in folder.rglob("*") if p.is_file())


def _edited(old: str | None, column_type: ColumnType) -> str:
    """The value with "(edited)" added, and never the same value, even when full."""
    for text in (f"{old or ''} (edited)", f"(edited) {old or ''}", "(edited)", "(edited again)"):
        if (new := _fit(text, column_type)) != old:
            return new
    return "~"


def _delete(connection: sa.Connection, spec: TableSpec, row: tuple, maker: _RowMaker) -> None:
    statement = delete_keys(_table(spec, connection.dialect), spec.tenant, spec.key, maker.org.org_id)
    _execute(connection, statement, {k: row[i] for k, i in zip(spec.key, spec.key_positions)})
    if spec.content:
        store = maker.layout.content_stores[spec.content.store]
        for relative in _content_files(maker.catalog, maker.layout, spec, dict(zip(spec.column_names, row))):
            (store / relative).unlink(missing_ok=True)
        folder = str(row[spec.column_names.index(spec.content.folder)] or "").rstrip(" ").strip("/") if spec.content.folder else ""
        if folder and ".." not in folder.split("/"):  # the row's folder goes with its files
            shutil.rmtree(store / folder, ignore_errors=True)
