"""Helpers for the database tests: the sample's stages run end to end, and raw views of its
databases on either engine."""

from __future__ import annotations

import csv
import dataclasses
import functools
import gzip
import io
import json
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import jinja2
import sqlalchemy as sa

from offboard.db.catalog import Catalog, load_catalog
from offboard.db.delfile import DelWriter
from offboard.db.delivered import delivered_keys
from offboard.db.export import Delivery, export_org
from offboard.fixup.report import FixupReport
from offboard.fixup.rows import fixup_target
from offboard.fixup.rules import parse_rules
from offboard.db.load import ImportResult, import_delivery
from offboard.db.manifest import MANIFEST_FILE
from offboard.db.connect import open_engine, table_of
from offboard.sample import OrgSample, SampleLayout
from offboard.sample.layout import SIDES
from offboard.sample.schema import create_server_databases

MSP_HOST = "connections.msp.example.com"


def export(sample: SampleLayout, org: OrgSample, kind: str = "initial", **options) -> Delivery:
    return export_org(load_catalog(sample.catalog), sample.sources, org.org_id, sample.root / "deliveries", kind, **options)


def load(sample: SampleLayout, org: OrgSample, delivery: str | Path, target: str = "staging", **options) -> ImportResult:
    folder = delivery if isinstance(delivery, Path) else sample.root / "deliveries" / delivery
    return import_delivery(catalog_of(sample), folder, sample.targets[target], org_id=org.org_id, target_org_id=org.target_org_id, **options)


Rows = Callable[[list[list[str]]], list[list[str]]]


def forge(folder: Path, table: str, entry: Callable[[dict], None] | None = None, rows: Rows | None = None,
          index: Rows | None = None) -> None:
    """Rewrite one table of the delivery in `folder` as whoever holds the bucket's key can: the rows
    of its chunks (`rows` maps them, every value as text), of its index (`index`: digest, then the
    key) and its manifest entry (`entry` edits it), with every size and sha256 recomputed so that
    they match."""
    path = folder / MANIFEST_FILE
    manifest = json.loads(path.read_text(encoding="utf-8"))
    [found] = [t for t in manifest["tables"] if f"{t['schema']}.{t['name']}" == table]
    for info, change in [*((chunk, rows) for chunk in found["chunks"] if rows), *([(found["index"], index)] if index else [])]:
        text = gzip.decompress((folder / info["file"]).read_bytes()).decode()
        writer = DelWriter(folder, info["file"])
        writer.write(change(list(csv.reader(io.StringIO(text, newline="")))))
        info.update(dataclasses.asdict(writer.close()))
    if entry:
        entry(found)
    path.write_text(json.dumps(manifest), encoding="utf-8")


def rules_text(sample: SampleLayout, org: OrgSample, mapping: Path | None = None) -> str:
    """The repository's rules template rendered for the sample org, as the CLI would."""
    template = (Path(__file__).resolve().parents[2] / "runbooks" / "fixup" / "rules.yaml.j2").read_text(encoding="utf-8")
    return jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(template).render(
        cloud_hosts=sample.cloud_hosts, msp_host=MSP_HOST, cloud_org_id=org.org_id,
        target_org_id=org.target_org_id, user_mapping=mapping or sample.user_mapping(org.org_id),
    )


def fixup(sample: SampleLayout, org: OrgSample, target: str = "staging", dry_run: bool = False, mapping: Path | None = None,
          **options) -> FixupReport:
    """The fix-up of the org in a target, its deliveries in `deliveries/<org id>` or `deliveries`."""
    rules = parse_rules(rules_text(sample, org, mapping), "rules.yaml")
    folder = sample.root / "deliveries" / org.org_id
    delivered = delivered_keys(catalog_of(sample), folder if folder.is_dir() else folder.parent, org.org_id)
    return fixup_target(catalog_of(sample), sample.targets[target], rules, delivered=delivered, dry_run=dry_run, **options)


def catalog_of(sample: SampleLayout) -> Catalog:
    return load_catalog(sample.catalog)


def copy_sample(pristine: Path, folder: Path) -> SampleLayout:
    """A copy of a sample to change: its files, and on PostgreSQL its databases (made from the
    pristine ones as templates, under a name of their own)."""
    shutil.copytree(pristine, folder)
    layout = SampleLayout.load(folder)
    if layout.server:
        layout = dataclasses.replace(layout, prefix=f"sample_{secrets.token_hex(4)}")
        create_server_databases(layout, {f"{layout.prefix}_{side}": f"{SampleLayout.load(pristine).prefix}_{side}" for side in SIDES})
        layout.save()
    return layout


@contextmanager
def connected(sample: SampleLayout, side: str, database: str) -> Iterator[sa.Connection]:
    """A connection to one Connections database of a side, in a transaction, where its tables
    are named without a schema on either engine (on PostgreSQL, through the search path)."""
    engine = _engine(sample.filled(sample.urls(side)[database]))
    with engine.begin() as connection:
        if engine.dialect.name != "sqlite":
            quote = engine.dialect.identifier_preparer.quote
            connection.exec_driver_sql(f"SET LOCAL search_path TO {', '.join(map(quote, schemas_of(sample, database)))}")
        yield connection


@functools.cache
def _engine(url: str) -> sa.Engine:
    return open_engine(url)


def schemas_of(sample: SampleLayout, database: str) -> list[str]:
    return _schemas(sample.catalog, database)


@functools.cache
def _schemas(catalog: Path, database: str) -> list[str]:
    return list(dict.fromkeys(spec.schema_name for spec in load_catalog(catalog).tables() if spec.database == database))


def query(sample: SampleLayout, side: str, database: str, sql: str, **params) -> list[tuple]:
    """Rows of `sql` (named parameters, `:name`) in one Connections database of a side."""
    with connected(sample, side, database) as connection:
        return [tuple(row) for row in connection.execute(sa.text(sql), params)]


def execute(sample: SampleLayout, side: str, database: str, sql: str, **params) -> None:
    with connected(sample, side, database) as connection:
        connection.execute(sa.text(sql), params)


def snapshot(sample: SampleLayout, side: str) -> dict[str, list]:
    """Every row of every table of a side's databases, all tenants: to prove nothing changed."""
    found = {}
    for database in sample.databases:
        with connected(sample, side, database) as connection:
            names = [table for schema in (schemas_of(sample, database) if connection.dialect.name != "sqlite" else [None])
                     for table in sa.inspect(connection).get_table_names(schema=schema)]
            for table in sorted(names):
                found[f"{database}.{table}"] = sorted(map(tuple, connection.exec_driver_sql(f'SELECT * FROM "{table}"')), key=repr)
    return found


def tenant_rows(sample: SampleLayout, target: str, catalog: Catalog) -> dict[str, set[str]]:
    """The tenant values present per table of a target."""
    return {
        spec.qualified: {value for (value,) in query(sample, target, spec.database, f'SELECT DISTINCT "{spec.tenant}" FROM "{spec.name}"')}
        for spec in catalog.tables()
    }


def org_rows(sample: SampleLayout, side: str, catalog: Catalog, org_id: str) -> dict[str, list[tuple]]:
    """Every row of one org per catalog table of a side, without the tenant column (which differs
    between source and target by design), in key order: to compare byte for byte."""
    found = {}
    for spec in catalog.tables():
        columns = ", ".join(f'"{column}"' for column in spec.columns if column != spec.tenant)
        order = ", ".join(f'"{column}"' for column in spec.key)
        rows = query(sample, side, spec.database, f'SELECT {columns} FROM "{spec.name}" WHERE "{spec.tenant}" = :org ORDER BY {order}',
                     org=org_id)
        found[spec.qualified] = [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in rows]
    return found


def catalog_databases(server: str | None, folder: Path, catalog: Catalog, sides: tuple[str, ...] = ("source", "staging"),
                      constraints: Callable[[sa.Table], list] = lambda table: []) -> dict[str, str]:
    """A database per side holding the catalog's tables (SQLite files, or new PostgreSQL
    databases on `server`), each table with the `constraints` given for it (on PostgreSQL)."""
    urls = {}
    for side in sides:
        if server is None:
            urls[side] = f"sqlite:///{folder / f'{side}.db'}"
        else:
            name = f"t_{side}_{secrets.token_hex(4)}"
            admin = open_engine(server)
            with admin.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(f'CREATE DATABASE "{name}"')
            admin.dispose()
            urls[side] = sa.engine.make_url(server).set(database=name).render_as_string(hide_password=False)
        engine = open_engine(urls[side], create=True)
        metadata = sa.MetaData()
        with engine.begin() as connection:
            for schema in {spec.schema_name for spec in catalog.tables()} if engine.dialect.name != "sqlite" else ():
                connection.execute(sa.schema.CreateSchema(schema))
            for spec in catalog.tables():
                table = table_of(spec, engine).to_metadata(metadata)
                if engine.dialect.name != "sqlite":
                    for constraint in constraints(table):
                        table.append_constraint(constraint)
                table.create(connection)
        engine.dispose()
    return urls
