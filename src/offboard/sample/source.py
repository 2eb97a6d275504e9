"""Creating a synthetic multi-tenant Connections source, deterministic for a seed.

On SQLite, one file per Connections database; on PostgreSQL, one database per side (source,
staging, production) with a schema per Connections schema, as on DB2 a schema per application.
Every catalog table holds rows of several orgs (rows.py makes them, for any format-2 catalog; an
`ensure` table holds exactly one row per org); content stores where all orgs' binaries lie
side by side; empty staging and production targets of the same schema (schema.py); per org a
user mapping as the MSP's directory sync would produce it (one user left out on purpose, as
happens), and one or two guests whose home org is another one. A failed create leaves nothing
behind. The weeks before cut-over: mutate.py.
"""

from __future__ import annotations

import csv
import random
import secrets
import shutil
import uuid
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from offboard.customer import holds_password
from offboard.db.catalog import CATALOG_FILE, Catalog, load_catalog
from offboard.errors import OffboardError
from offboard.masking import mask_url
from offboard.sample.cluster import start_cluster, stop_cluster
from offboard.sample.layout import CLOUD_HOSTS, CLUSTER_FOLDER, ENGINES, SIDES, TARGETS, OrgSample, SampleLayout, User
from offboard.sample.rows import RowMaker, is_people
from offboard.sample.schema import create_schema, create_server_databases
from offboard.sample.tables import insert_rows, side_connections

_REPOSITORY_CATALOG = Path(__file__).resolve().parents[3] / "runbooks" / CATALOG_FILE

_USERS = 12
_ROWS_PER_ORG = 480  # about as many rows per org at scale 1, spread over the tables that are not people
_FIRST = ["Anna", "Ben", "Chiara", "David", "Elif", "Femi", "Greta", "Hugo", "Ines", "Jonas", "Kira", "Lars", "Mona", "Nils"]
_LAST = ["Auer", "Brandt", "Costa", "Dietrich", "Eder", "Fuchs", "Graf", "Hahn", "Iversen", "Jung", "Kraus", "Lang"]
# Every org's first people: names with ü, é, ß and in CJK (name, mail name), for text that is not ASCII.
_NAMES = [("Jürgen Müller", "juergen.mueller"), ("Renée Lefèvre", "renee.lefevre"), ("Ulrike Strauß", "ulrike.strauss"),
          ("王芳", "wang.fang")]


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
        create_schema(catalog, {name: layout.filled(url) for name, url in layout.urls(side).items()}, foreign_keys=side in TARGETS)
    counts, used = _row_counts(catalog, scale), {}  # used: the keys of every org, as a key is unique across orgs
    with side_connections(layout, catalog, "source") as connections:
        for org in layout.orgs:
            _write_mapping(org, layout.user_mapping(org.org_id))
            _fill_org(RowMaker(rng, org, layout, catalog, used), connections, counts)
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
        writer.writerows([u.cloud_id, u.target_id, u.email] for u in org.users[:-1] if not u.home_org)  # guests are another org's


def _row_counts(catalog: Catalog, scale: int) -> dict[str, int | None]:
    """Rows per org of each table: one in an ensure table, one per user (None) in a people table,
    and in the others as many as spread a few hundred rows per org over them."""
    tables = catalog.tables()
    others = [spec for spec in tables if not spec.ensure and not is_people(spec)]
    each = max(6, min(24, _ROWS_PER_ORG // max(1, len(others))))
    return {spec.qualified: 1 if spec.ensure else None if is_people(spec) else each * scale for spec in tables}


def _fill_org(maker: RowMaker, connections: dict[str, sa.Connection], counts: dict[str, int | None]) -> None:
    for spec in maker.catalog.tables():  # parents first
        count = counts[spec.qualified]
        if spec.ensure:
            rows = [maker.make(spec, maker.org.users[0])]
        elif count is None:
            rows = [maker.make(spec, user) for user in maker.org.users]
        else:
            rows = maker.rows(spec, count)
        insert_rows(connections[spec.database], spec, rows)
