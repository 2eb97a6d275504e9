"""Helpers for the catalog check's tests: the check of the test stack, its findings, and changes
to a sample's schemas and to the catalog that the check must see."""

from __future__ import annotations

import sqlalchemy as sa
import yaml
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateTable

from offboard.customer import load_customer
from offboard.db.catalog import Catalog, TableSpec, load_catalog
from offboard.db.check import check_customer
from offboard.db.types import parse_type
from offboard.errors import NotProvisioned
from offboard.sample.layout import SIDES
from tests.db.support import execute

STACK = "acme"


def not_provisioned():
    raise NotProvisioned("no bucket yet")


def catalog_of(project) -> Catalog:
    return load_catalog(project.runbooks_dir / "catalog" / "connections.yaml")


def check(project, **options):
    return check_customer(project, load_customer(project, STACK), **options)


def found(result, severity: str, side: str, kind: str, table: str | None = None, column: str | None = None):
    return [f for f in result.findings if (f.severity, f.side, f.kind) == (severity, side, kind)
            and (table is None or f.table == table) and (column is None or f.column == column)]


# --- changing a sample's schema -------------------------------------------------------------------


def quoted(sample, spec: TableSpec) -> str:
    return f'"{spec.name}"' if sample.engine == "sqlite" else f'"{spec.schema_name}"."{spec.name}"'


def recreate(sample, side: str, spec: TableSpec, types: dict[str, str] | None = None, extra: list[sa.Column] = (),
             key: list[str] | None = None) -> None:
    """Make a target's (empty) table again with some columns' types changed, columns added or another key."""
    dialect = sqlite.dialect() if sample.engine == "sqlite" else postgresql.dialect()
    types = {**spec.columns, **(types or {})}
    columns = [sa.Column(name, parse_type(text).sa_type(), primary_key=name in (key or spec.key)) for name, text in types.items()]
    table = sa.Table(spec.name, sa.MetaData(), *columns, *extra, schema=None if sample.engine == "sqlite" else spec.schema_name)
    execute(sample, side, spec.database, f"DROP TABLE {quoted(sample, spec)}")
    execute(sample, side, spec.database, str(CreateTable(table).compile(dialect=dialect)))


def varchar_column(catalog: Catalog) -> tuple[TableSpec, str, int]:
    """A moved VARCHAR column that is neither tenant, key, locator nor parent, of a table no other
    table points at: free to change."""
    parents = {parent for spec in catalog.tables() for parent in spec.parents.values()}
    for spec in (spec for spec in catalog.tables() if spec.qualified not in parents and not spec.ensure):
        for column, column_type in spec.types.items():
            fixed = {spec.tenant, *spec.key, *spec.parents, *(spec.content.columns if spec.content else [])}
            if column_type.kind == "VARCHAR" and column_type.length >= 8 and column not in fixed:
                return spec, column, column_type.length
    raise AssertionError("the catalog has no VARCHAR column to change")


# --- a release table --------------------------------------------------------------------------------


def set_release(project, sample, database: str, release: dict) -> None:
    """Say in the catalog (the project's and the sample's copy) where a database records its release."""
    for path in (project.runbooks_dir / "catalog" / "connections.yaml", sample.catalog):
        document = yaml.safe_load(path.read_text())
        document["databases"][database]["release"] = release
        path.write_text(yaml.safe_dump(document, sort_keys=False))


def release_table(sample, database: str, qualified: str, columns: list[str], rows: dict[str, list[tuple]]) -> str:
    """Make a release table of VARCHAR columns on every side, holding that side's rows (none where
    `rows` names no side); its name as SQL says it."""
    schema, table = qualified.split(".")
    where = f'"{table}"' if sample.engine == "sqlite" else f'"{schema}"."{table}"'
    names = ", ".join(f'"{column}" VARCHAR(64)' for column in columns)
    markers = ", ".join(f":v{number}" for number in range(len(columns)))
    for side in SIDES:
        execute(sample, side, database, f"CREATE TABLE IF NOT EXISTS {where} ({names})")
        execute(sample, side, database, f"DELETE FROM {where}")
        for row in rows.get(side, ()):
            execute(sample, side, database, f"INSERT INTO {where} VALUES ({markers})", **{f"v{n}": value for n, value in enumerate(row)})
    return where


def add_release(project, sample, catalog: Catalog) -> tuple[str, str, str]:
    """The release table of the first database the catalog names one for (the sample makes it on
    every side, with the same release), said in the catalog to be known rather than inferred."""
    name, spec = next((name, spec) for name, spec in catalog.databases.items() if spec.release and not spec.release.where)
    set_release(project, sample, name, {"table": spec.release.table, "column": spec.release.column})
    schema, table = spec.release.table.split(".")
    return name, f'"{table}"' if sample.engine == "sqlite" else f'"{schema}"."{table}"', spec.release.column
