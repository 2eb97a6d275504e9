"""Creating a sample's databases and tables: the databases on its PostgreSQL server, and per side
every catalog table with its tenant index, its unique indexes (`unique`) and the schema release table. The PostgreSQL targets
also get the product's foreign keys (`parents`, and a tenant column named as its database's
ensure table's key): a load in the wrong order fails there. The source has none."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

from offboard.db.catalog import Catalog, DatabaseSpec
from offboard.db.connect import database_errors, open_engine
from offboard.sample.layout import SAMPLE_RELEASE, SampleLayout
from offboard.sample.tables import cached_table


def create_server_databases(layout: SampleLayout, names: dict[str, str | None]) -> None:
    """Create each database of `names` on the sample's server, as a copy of the database it maps
    to, or empty (None)."""
    engine = open_engine(layout.filled(layout.server))
    quote = engine.dialect.identifier_preparer.quote
    with database_errors(engine, "creating the sample's databases"), engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")  # CREATE DATABASE runs outside a transaction
        for name, template in names.items():
            connection.exec_driver_sql(f"CREATE DATABASE {quote(name)}" + (f" TEMPLATE {quote(template)}" if template else ""))


def create_schema(catalog: Catalog, urls: dict[str, str], foreign_keys: bool) -> None:
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
                table = cached_table(spec, dialect)
                indexes = [sa.Index(f"IX_{spec.name}_TENANT", table.c[spec.tenant]),
                           *(sa.Index(f"UX_{spec.name}_{number}", *(table.c[c] for c in [*columns, spec.tenant]), unique=True)
                             for number, columns in enumerate(spec.unique, start=1))]
                statements += [str(sa.schema.CreateTable(table).compile(dialect=dialect)).strip(),
                               *(str(sa.schema.CreateIndex(index).compile(dialect=dialect)) for index in indexes)]
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
                f"ALTER TABLE {preparer.format_table(cached_table(spec, dialect))} ADD CONSTRAINT {preparer.quote(name)} "
                f"FOREIGN KEY ({preparer.quote(column)}) REFERENCES {preparer.format_table(cached_table(parent, dialect))} "
                f"({preparer.quote(parent.key[0])})" + (" DEFERRABLE INITIALLY DEFERRED" if parent is spec else ""))
    return statements
