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

from offboard.db.catalog import TableShape, sa_type
from offboard.errors import OffboardError, first_line
from offboard.masking import mask_url, scrub

# The rows go through the DBAPI cursor with positional parameters (`compile_for`): psycopg takes
# them as `%s`, where SQLAlchemy would choose its named style.
_POSITIONAL = {"postgresql": {"paramstyle": "format"}}


def open_engine(url: str, *, create: bool = False) -> Engine:
    """An engine for one database URL; a SQLite file must exist unless `create` is set."""
    try:
        parsed = sa.make_url(url)
        # No pool: a run opens connections as it needs them and keeps none idle on a shared server.
        engine = sa.create_engine(parsed, poolclass=sa.pool.NullPool, **_POSITIONAL.get(parsed.get_backend_name(), {}))
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as error:  # ImportError: no driver installed
        raise OffboardError(f"not a usable database URL {mask_url(url)}: {first_line(error)}") from None
    if engine.dialect.name == "sqlite":
        path = parsed.database
        if not path or path == ":memory:":
            raise OffboardError(f"{shown(engine)}: a SQLite URL must name a file (sqlite:///path/FILES.db)")
        if not create and not Path(path).is_file():
            raise OffboardError(f"no database file at {scrub(path)} ({shown(engine)})")
    return engine


def open_engines(urls: Mapping[str, str], databases: Iterable[str], role: str) -> dict[str, Engine]:
    """One engine per Connections database, refusing when a database has no URL."""
    missing = [name for name in databases if name not in urls]
    if missing:
        raise OffboardError(f"no {role} database URL for {', '.join(missing)} (given: {', '.join(urls) or 'none'})")
    return {name: open_engine(urls[name]) for name in databases}


def shown(engine: Engine) -> str:
    """The engine's URL as messages name it: its password masked."""
    return mask_url(engine.url.render_as_string(hide_password=True))


def table_of(shape: TableShape, engine: Engine | Dialect) -> sa.Table:
    """The SQLAlchemy table of a catalog/manifest table, schema-qualified except on SQLite."""
    dialect = engine.dialect if isinstance(engine, Engine) else engine
    schema = None if dialect.name == "sqlite" else shape.schema_name
    columns = [sa.Column(name, sa_type(type_text), primary_key=name in shape.key) for name, type_text in shape.columns.items()]
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
    """Refuse, before any change, when a table or one of its columns is missing in the database."""
    with database_errors(engine, "reading the table list"):
        inspector = sa.inspect(engine)
        for shape in shapes:
            table = table_of(shape, engine)
            if not inspector.has_table(table.name, schema=table.schema):
                raise OffboardError(f"{shown(engine)} has no table {shape.qualified}")
            present = {column["name"].upper() for column in inspector.get_columns(table.name, schema=table.schema)}
            missing = [name for name in shape.columns if name not in present]
            if missing:
                raise OffboardError(f"{shape.qualified} in {shown(engine)} lacks column(s) {', '.join(missing)}")
