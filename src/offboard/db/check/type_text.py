"""Column types as text, one spelling whichever dialect compiled them, and how much a live type
that differs from the expected one matters.

Types are compared as text: the catalog type's SQLAlchemy type compiled for the engine's
dialect against the live type compiled for the same dialect, both normalised (TIMESTAMP(6) is
TIMESTAMP, WITHOUT TIME ZONE is dropped, NUMERIC is DECIMAL, ...). Where reflection loses what
the database knows, the declared type is read instead (offboard.db.check.live): SQLite's
declared text, DB2's SYSCAT.COLUMNS row, turned into text here (`db2_type_text`). On PostgreSQL
CHAR/VARCHAR FOR BIT DATA and BLOB are all BYTEA and CLOB is TEXT, so their lengths cannot be
compared there (nor CLOB and BLOB lengths on SQLite, where they are TEXT and BLOB).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from offboard.db.catalog import TableSpec
from offboard.db.check.model import BLOCKS, NOTE, Severity


def normalise(type_text: str) -> str:
    """A compiled type's text in one spelling, whichever dialect compiled it."""
    text = " ".join(type_text.upper().replace(" WITHOUT TIME ZONE", "").split())
    text = text.replace(", ", ",").replace(" (", "(")
    for spelled, canonical in (("CHARACTER VARYING", "VARCHAR"), ("CHARACTER(", "CHAR("), ("DOUBLE PRECISION", "DOUBLE"),
                               ("NUMERIC", "DECIMAL"), ("TIMESTAMP(6)", "TIMESTAMP"), ("TIME(6)", "TIME"),
                               ("FLOAT(53)", "DOUBLE")):
        text = text.replace(spelled, canonical)
    # DB2's and PostgreSQL's FLOAT without a precision is their DOUBLE
    aliases = {"CHARACTER": "CHAR(1)", "INT": "INTEGER", "INT4": "INTEGER", "INT2": "SMALLINT", "INT8": "BIGINT", "FLOAT": "DOUBLE"}
    return aliases.get(text, text)


def split_type(text: str) -> tuple[str, tuple[int, ...]]:
    """(kind, numbers) of a normalised type: `CHAR(16) FOR BIT DATA` is ("CHAR() FOR BIT DATA", (16,))."""
    if text == "TIMESTAMP":
        return "TIMESTAMP()", (6,)  # DB2's and PostgreSQL's default precision
    head, paren, rest = text.partition("(")
    if not paren:
        return text, ()
    inside, _, tail = rest.partition(")")
    try:
        numbers = tuple(int(part) for part in inside.split(","))
    except ValueError:
        return text, ()
    return f"{head}(){tail}", numbers


def catalog_type_text(spec: TableSpec, column: str, dialect: Dialect) -> str:
    # On PostgreSQL CHAR/VARCHAR(n) FOR BIT DATA and BLOB(n) are all BYTEA, and CLOB(n) is TEXT
    # (CLOB and BLOB on SQLite: TEXT and BLOB): neither side says a length there, so none is compared.
    return normalise(spec.types[column].sa_type().compile(dialect=dialect))


def db2_type_text(reflected: sa.types.TypeEngine, typename: str, length: int, scale: int, codepage: int, dialect: Dialect) -> str:
    """The type of a DB2 column from ibm_db_sa's reflection and its SYSCAT.COLUMNS row: ibm_db_sa
    reflects CHAR(n) FOR BIT DATA as CHAR(n) and a LOB without its length."""
    typename = typename.strip().upper()
    if typename in ("CLOB", "BLOB", "DBCLOB"):
        return f"{typename}({length})"
    if typename == "TIMESTAMP":
        return "TIMESTAMP" if scale == 6 else f"TIMESTAMP({scale})"
    text = normalise(reflected.compile(dialect=dialect)) if not isinstance(reflected, sa.types.NullType) else typename
    if typename in ("CHARACTER", "CHAR", "VARCHAR") and codepage == 0:
        text += " FOR BIT DATA"
    return text


def type_verdict(expected: str, found: str, widening_blocks: bool) -> tuple[Severity, str] | None:
    """How a live type that should be `expected` is `found`: None when the same. `widening_blocks`:
    in the source a wider type than the catalog's blocks, in a target a narrower one."""
    if expected == found:
        return None
    (kind, wanted), (live_kind, have) = split_type(expected), split_type(found)
    if kind != live_kind or len(wanted) != len(have) or not wanted:
        return BLOCKS, "another type"
    if len(wanted) == 2:  # DECIMAL(p,s): the digits before the point and after it
        wanted, have = (wanted[0] - wanted[1], wanted[1]), (have[0] - have[1], have[1])
    sizes = list(zip(wanted, have))
    wider = all(h >= w for w, h in sizes)
    narrower = all(h <= w for w, h in sizes)
    if widening_blocks:
        if narrower:
            return NOTE, "narrower than the catalog: every value fits"
        return BLOCKS, "wider than the catalog: values the import refuses may exist here"
    if wider:
        return NOTE, "wider than the catalog: every value fits"
    return BLOCKS, "narrower than the catalog: the source's values would not fit"
