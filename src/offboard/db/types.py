"""The column types of a Connections database, as the catalog writes them in DB2's own words.

    CHAR(n) | VARCHAR(n)                      text, n bytes of UTF-8
    CHAR(n) FOR BIT DATA | VARCHAR(n) ...     bytes (ids of Files and Wikis, activity stream metadata)
    CLOB(n) | BLOB(n)                         large objects, n in bytes, or with K, M or G
    SMALLINT | INTEGER | BIGINT | DECIMAL(p,s) | DOUBLE | DATE | TIME | TIMESTAMP

One parsed `ColumnType` per text says how a value travels: its SQLAlchemy type on each engine,
how long its field in a DEL file can be, and whether it is bytes (never text) or a large object
(which travels in a LOB file beside its chunk, as DB2's LOBSINFILE does).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles

_SIZED = re.compile(r"^(?P<kind>CHAR|VARCHAR)\((?P<length>[1-9][0-9]{0,4})\)(?P<bits> FOR BIT DATA)?$")
_LOB = re.compile(r"^(?P<kind>CLOB|BLOB)\((?P<length>[1-9][0-9]{0,9})(?P<unit>[KMG]?)\)$")
_DECIMAL = re.compile(r"^DECIMAL\((?P<precision>[1-9][0-9]?),\s?(?P<scale>[0-9][0-9]?)\)$")
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
_LOB_LIMIT = 2 * (1 << 30) - 1  # DB2's largest LOB: 2 GB less one byte
INTEGER_RANGE = {"SMALLINT": 1 << 15, "INTEGER": 1 << 31, "BIGINT": 1 << 63}
# The longest DEL text of a value: -32768, -2147483648, -9223372036854775808, a DOUBLE's repr,
# yyyy-mm-dd, hh:mm:ss.ffffff, and a TIMESTAMP(12) (yyyy-mm-dd-hh.mm.ss.nnnnnnnnnnnn).
_FIXED_CHARS = {"SMALLINT": 6, "INTEGER": 11, "BIGINT": 20, "DOUBLE": 24, "DATE": 10, "TIME": 15, "TIMESTAMP": 32}
# A LOB's field holds where its bytes lie in the chunk's LOB file: `<file>.<offset>.<length>/`.
LOB_FIELD_CHARS = 256
SUPPORTED = "CHAR(n), VARCHAR(n) [FOR BIT DATA], CLOB(n), BLOB(n), SMALLINT, INTEGER, BIGINT, DECIMAL(p,s), DOUBLE, DATE, TIME, TIMESTAMP"


@dataclass(frozen=True)
class ColumnType:
    text: str  # as the catalog writes it
    kind: str  # CHAR, VARCHAR, CLOB, BLOB, BINARY (CHAR FOR BIT DATA), VARBINARY, or the type's name
    length: int | None = None  # bytes, for the sized kinds
    precision: int | None = None
    scale: int | None = None

    @property
    def is_text(self) -> bool:
        return self.kind in ("CHAR", "VARCHAR", "CLOB")

    @property
    def is_binary(self) -> bool:
        return self.kind in ("BINARY", "VARBINARY", "BLOB")

    @property
    def is_lob(self) -> bool:
        return self.kind in ("CLOB", "BLOB")

    @property
    def is_integer(self) -> bool:
        return self.kind in INTEGER_RANGE

    @property
    def field_chars(self) -> int:
        """The most characters of a value's field in a DEL file. Bytes stand one per character."""
        if self.is_lob:
            return LOB_FIELD_CHARS
        if self.length is not None:
            return self.length  # n bytes are never more than n characters
        if self.kind == "DECIMAL":
            return self.precision + 2  # a sign and a point
        return _FIXED_CHARS[self.kind]

    def sa_type(self) -> sa.types.TypeEngine:
        """The SQLAlchemy type, compiled to each engine's own words (see the @compiles below)."""
        if self.kind in ("CHAR", "VARCHAR"):
            return (sa.CHAR if self.kind == "CHAR" else sa.VARCHAR)(self.length)
        if self.kind in ("BINARY", "VARBINARY"):
            return _for_bit_data(self.length, varying=self.kind == "VARBINARY")
        if self.kind == "CLOB":
            return _clob(self.length)
        if self.kind == "BLOB":
            return _blob(self.length)
        if self.kind == "DECIMAL":
            return sa.Numeric(self.precision, self.scale, asdecimal=True)
        return {"SMALLINT": sa.SMALLINT, "INTEGER": sa.INTEGER, "BIGINT": sa.BIGINT, "DOUBLE": sa.Double,
                "DATE": sa.Date, "TIME": sa.Time, "TIMESTAMP": sa.TIMESTAMP}[self.kind]()


@cache
def parse_type(text: str) -> ColumnType | None:
    """The type a catalog text names, or None when it is none we carry."""
    if not isinstance(text, str):
        return None
    if match := _SIZED.match(text):
        kind = ("VARBINARY" if match["kind"] == "VARCHAR" else "BINARY") if match["bits"] else match["kind"]
        return ColumnType(text, kind, int(match["length"]))
    if match := _LOB.match(text):
        length = int(match["length"]) * _UNITS[match["unit"]]
        return ColumnType(text, match["kind"], length) if length <= _LOB_LIMIT else None
    if match := _DECIMAL.match(text):
        precision, scale = int(match["precision"]), int(match["scale"])
        return ColumnType(text, "DECIMAL", precision=precision, scale=scale) if precision <= 31 and scale <= precision else None
    if text in _FIXED_CHARS:
        return ColumnType(text, text)
    return None


class _Bits(sa.types.UserDefinedType):
    """CHAR(n) or VARCHAR(n) FOR BIT DATA: BINARY(n) / VARBINARY(n) on SQLite, DB2's words on DB2."""

    cache_ok = True

    def __init__(self, length: int, varying: bool) -> None:
        self.length, self.varying = length, varying

    def get_col_spec(self, **kw) -> str:
        return f"{'VARBINARY' if self.varying else 'BINARY'}({self.length})"


@compiles(_Bits, "ibm_db_sa")
def _bits_on_db2(element: _Bits, compiler, **kw) -> str:
    return f"{'VARCHAR' if element.varying else 'CHAR'}({element.length}) FOR BIT DATA"


def _for_bit_data(length: int, varying: bool) -> sa.types.TypeEngine:
    return _Bits(length, varying).with_variant(sa.LargeBinary(), "postgresql")  # BYTEA


def _clob(length: int) -> sa.types.TypeEngine:
    return sa.Text().with_variant(sa.CLOB(length), "ibm_db_sa")  # TEXT elsewhere


def _blob(length: int) -> sa.types.TypeEngine:
    return sa.LargeBinary().with_variant(sa.LargeBinary(length), "ibm_db_sa")  # BYTEA, BLOB elsewhere


@compiles(sa.CLOB, "ibm_db_sa")
def _clob_on_db2(element: sa.CLOB, compiler, **kw) -> str:
    return f"CLOB({element.length})" if element.length else "CLOB"
