"""Reaching the tables of a sample's side: a connection per Connections database, each table's
SQLAlchemy table (made once), and rows bound and inserted as the engine takes them."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from decimal import Decimal

import sqlalchemy as sa

from offboard.db.bulk import executing
from offboard.db.catalog import Catalog, TableSpec
from offboard.db.connect import open_engine, table_of
from offboard.sample.layout import SampleLayout


@contextmanager
def side_connections(layout: SampleLayout, catalog: Catalog, side: str) -> Iterator[dict[str, sa.Connection]]:
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


def insert_rows(connection: sa.Connection, spec: TableSpec, rows: list[tuple]) -> None:
    if rows:
        executing(connection, sa.insert(cached_table(spec, connection.dialect)), spec.column_names)(bindable(connection, rows))


_TABLES: OrderedDict[tuple[int, str], tuple[TableSpec, sa.Table]] = OrderedDict()


def cached_table(spec: TableSpec, dialect: sa.Dialect) -> sa.Table:
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


def bindable(connection: sa.Connection, rows: list[tuple]) -> list[tuple]:
    """sqlite3 binds no Decimal: it gets the number's text (NUMERIC affinity stores it as a number)."""
    if connection.dialect.name != "sqlite":
        return rows
    return [tuple(str(v) if isinstance(v, Decimal) else v for v in row) for row in rows]
