"""SQLAlchemy engines for the source and target databases.

`sqlite:///path/FILES.db` is the embedded default: one file per Connections database, its tables
without a schema. `db2+ibm_db://user:password@host:50000/FILES` is production, tables as
SCHEMA.TABLE, and so is `postgresql+psycopg://...`, the strict engine the tests and the demo
prove every stage on beside SQLite. Statements are SQLAlchemy constructs compiled for the
engine's dialect; the rows themselves go through the DBAPI cursor (fetchmany / executemany),
because SQLAlchemy's per-row result and parameter processing would roughly double the per-row
cost of a bulk move.
Messages name an engine by its URL masked by `offboard.masking` (a password in the user part, a
parameter or a DB2 connection-string part, also percent-encoded), and quote a driver's message
scrubbed of every password this process filled in.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Dialect, Engine

from offboard.db.catalog import TableShape
from offboard.errors import OffboardError, first_line
from offboard.masking import mask_url, scrub

# The rows go through the DBAPI cursor with positional parameters (`compile_for`): psycopg takes
# them as `%s`, where SQLAlchemy would choose its named style.
_POSITIONAL = {"postgresql": {"paramstyle": "format"}}


def open_engine(url: str, *, create: bool = False, pooled: bool = False) -> Engine:
    """An engine for one database URL; a SQLite file must exist unless `create` is set. Without a
    pool a connection closes when it is returned; `pooled` keeps one open for reuse, until the
    engine is disposed (`opened_engines` does so when its stage ends): none stays idle on a shared
    server after the stage, and a stage's hundreds of short reads do not each open a connection."""
    try:
        parsed = sa.make_url(url)
        pool = {"pool_size": 1, "max_overflow": 4} if pooled else {"poolclass": sa.pool.NullPool}
        engine = sa.create_engine(parsed, **pool, **_POSITIONAL.get(parsed.get_backend_name(), {}))
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as error:  # ImportError: no driver installed
        raise OffboardError(f"not a usable database URL {mask_url(url)}: {first_line(error)}") from None
    if engine.dialect.name == "sqlite":
        path = parsed.database
        if not path or path == ":memory:":
            raise OffboardError(f"{shown(engine)}: a SQLite URL must name a file (sqlite:///path/FILES.db)")
        if not create and not Path(path).is_file():
            raise OffboardError(f"no database file at {scrub(path)} ({shown(engine)})")
    return engine


@contextmanager
def opened_engines(urls: Mapping[str, str], databases: Iterable[str], role: str) -> Iterator[dict[str, Engine]]:
    """An engine per Connections database for one stage, refusing when a database has no URL;
    databases of one URL (a side's schemas on one PostgreSQL database) share an engine. Each keeps
    a connection for reuse while the stage runs, and is disposed when it ends."""
    databases = list(databases)
    missing = [name for name in databases if name not in urls]
    if missing:
        raise OffboardError(f"no {role} database URL for {', '.join(missing)} (given: {', '.join(urls) or 'none'})")
    by_url: dict[str, Engine] = {}
    try:
        for name in databases:
            if urls[name] not in by_url:
                by_url[urls[name]] = open_engine(urls[name], pooled=True)
        yield {name: by_url[urls[name]] for name in databases}
    finally:
        for engine in by_url.values():
            engine.dispose()


def shown(engine: Engine) -> str:
    """The engine's URL as messages name it: its password masked."""
    return mask_url(engine.url.render_as_string(hide_password=True))


def table_of(shape: TableShape, engine: Engine | Dialect) -> sa.Table:
    """The SQLAlchemy table of a catalog/manifest table, schema-qualified except on SQLite."""
    dialect = engine.dialect if isinstance(engine, Engine) else engine
    schema = None if dialect.name == "sqlite" else shape.schema_name
    columns = [sa.Column(name, shape.types[name].sa_type(), primary_key=name in shape.key) for name in shape.columns]
    return sa.Table(shape.name, sa.MetaData(), *columns, schema=schema)


@dataclass(frozen=True)
class Compiled:
    """A statement's SQL for one dialect and the names of its positional parameters, in order."""

    sql: str
    names: tuple[str, ...]

    def picker(self, positions: Mapping[str, int]) -> Callable[[Sequence], tuple]:
        """Takes a row's values into this statement's parameter order (`positions`: name -> index)."""
        indexes = [positions[name] for name in self.names]
        if len(indexes) == 1:
            return lambda row: (row[indexes[0]],)
        return itemgetter(*indexes)


def compile_for(statement: sa.ClauseElement, engine: Engine | Dialect, column_keys: list[str] | None = None) -> Compiled:
    dialect = engine.dialect if isinstance(engine, Engine) else engine
    compiled = statement.compile(dialect=dialect, column_keys=column_keys)
    if compiled.positiontup is None:
        raise OffboardError(f"the {dialect.name} driver does not use positional parameters")
    return Compiled(compiled.string, tuple(compiled.positiontup))


def streaming_cursor(connection: sa.Connection):
    """A DBAPI cursor whose fetchmany reads from the server as it goes. sqlite3 and ibm_db stream
    anyway; psycopg's plain cursor would hold the whole result in memory, a named one does not."""
    if connection.dialect.name == "postgresql":
        return connection.connection.cursor(name=f"offboard_{next(_CURSORS)}")
    return connection.connection.cursor()


_CURSORS = itertools.count(1)  # names of psycopg's server-side cursors, unique in the process


@contextmanager
def database_errors(engine: Engine, doing: str) -> Iterator[None]:
    """Driver and connection errors as one line naming what was being done, and where."""
    dbapi = engine.dialect.loaded_dbapi
    try:
        yield
    except sa.exc.DBAPIError as error:
        raise OffboardError(f"{doing} in {shown(engine)}: {first_line(error.orig)}") from None
    except dbapi.Error as error:
        raise OffboardError(f"{doing} in {shown(engine)}: {first_line(error)}") from None


def require_tables(engine: Engine, shapes: Iterable[TableShape]) -> None:
    """Refuse, before any change, when a table or one of its columns is missing in the database
    (read with one query per schema where the engine can)."""
    shapes = list(shapes)
    tables = [table_of(shape, engine) for shape in shapes]
    with database_errors(engine, "reading the table list"), engine.connect() as connection:
        inspector = sa.inspect(connection)
        found: dict = {}
        for schema in dict.fromkeys(table.schema for table in tables):
            names = [table.name for table in tables if table.schema == schema]
            found.update(inspector.get_multi_columns(schema=schema, filter_names=names))
    for shape, table in zip(shapes, tables):
        columns = found.get((table.schema, table.name))
        if columns is None:
            raise OffboardError(f"{shown(engine)} has no table {shape.qualified}")
        present = {column["name"].upper() for column in columns}
        missing = [name for name in shape.columns if name not in present]
        if missing:
            raise OffboardError(f"{shape.qualified} in {shown(engine)} lacks column(s) {', '.join(missing)}")
