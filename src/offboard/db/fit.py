"""Values checked against their columns' catalog types before they are written.

DB2 and PostgreSQL refuse a value longer than its VARCHAR, a number that is not one or out
of its type's range, a date or time that is none (the export writes ISO 8601); SQLite takes them
all. So the catalog's types are checked here, the same on every engine, and a refusal names the
column and the record. Lengths are counted in UTF-8 bytes, as DB2 counts CHAR(n), VARCHAR(n) and
CLOB(n); bytes of a FOR BIT DATA column one per byte; a LOB by the length its location states
(offboard.db.lobs; its bytes are read, and checked, when it is loaded).

A batch is checked column by column in C loops (map, max, a regular expression over a column's
values joined, datetime.fromisoformat); only a column that fails is walked in Python, to name
its first value that does not fit.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import partial
from operator import is_not, itemgetter

from offboard.db.lobs import specifier_length
from offboard.db.types import INTEGER_RANGE, ColumnType, parse_type
from offboard.db.values import text_bytes

_INTEGER = re.compile(r"(?:(?:0|-?[1-9][0-9]{0,18})\n)*")  # as the export writes them: no sign on 0, no leading zeros
_DECIMAL = re.compile(r"(?:-?[0-9]{1,31}(?:\.[0-9]{1,31})?\n)*")
_DOUBLE = re.compile(r"(?:-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]{1,3})?\n)*")
_DATE = re.compile(r"(?:[0-9]{4}-[0-9]{2}-[0-9]{2}\n)*")
_TIME = re.compile(r"(?:[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?\n)*")
# yyyy-mm-dd hh:mm:ss[.fraction] (or a T between date and time), without a time zone, up to DB2's
# TIMESTAMP(12); datetime.fromisoformat alone would take week dates, a decimal comma, and more.
_TIMESTAMP = re.compile(r"(?:[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,12})?\n)*")
_NOT_NULL = partial(is_not, None)


@dataclass(frozen=True)
class Misfit:
    row: int  # index in the batch
    column: str
    problem: str


def _lines(values: list[str]) -> str | None:
    """The values, each ended by a line end, for one regular expression over all of them; None
    when a value holds a line end of its own (it would pass the expression)."""
    text = "\n".join(values) + "\n" if values else ""
    return text if text.count("\n") == len(values) else None


def _matching(pattern: re.Pattern) -> Callable[[list[str]], bool]:
    def check(values: list[str]) -> bool:
        text = _lines(values)
        return text is not None and pattern.fullmatch(text) is not None
    return check


def _text_check(limit: int) -> Callable[[list[str]], bool]:
    def check(values: list[str]) -> bool:
        text, longest = "".join(values), max(map(len, values), default=0)
        if "\0" in text:  # PostgreSQL's text cannot hold it
            return False
        if text.isascii():
            return longest <= limit
        try:
            return max(map(len, map(str.encode, values))) <= limit  # and valid UTF-8: no escaped byte
        except UnicodeEncodeError:
            return False
    return check


def _binary_check(limit: int, fixed: bool) -> Callable[[list[str]], bool]:
    """At most `limit` bytes; exactly that many for a fixed CHAR(n) FOR BIT DATA (DB2 pads a
    shorter one, which would then match another key than the one delivered)."""
    def check(values: list[str]) -> bool:
        if fixed:
            return set(map(len, map(text_bytes, values))) <= {limit}
        longest = max(map(len, values), default=0)
        return longest <= limit // 4 or max(map(len, map(text_bytes, values))) <= limit  # a character is 1 to 4 bytes
    return check


def _lob_check(limit: int) -> Callable[[list[str]], bool]:
    def check(values: list[str]) -> bool:
        lengths = list(map(specifier_length, values))
        return None not in lengths and max(lengths, default=0) <= limit
    return check


def _integer_check(kind: str) -> Callable[[list[str]], bool]:
    bound = INTEGER_RANGE[kind]
    digits = len(str(bound)) - 1  # numbers with fewer digits are always in range
    shaped = _matching(_INTEGER)

    def check(values: list[str]) -> bool:
        if not shaped(values):
            return False
        return max(map(len, values), default=0) <= digits or all(-bound <= number < bound for number in map(int, values))
    return check


def _decimal_check(precision: int, scale: int) -> Callable[[list[str]], bool]:
    shaped = _matching(_DECIMAL)

    def fits(value: str) -> bool:
        whole, _, fraction = value.lstrip("-").partition(".")
        return len(whole.lstrip("0")) <= precision - scale and len(fraction) <= scale

    return lambda values: shaped(values) and all(map(fits, values))


def _double_check(values: list[str]) -> bool:
    """A finite DOUBLE that neither overflows nor underflows (DB2 and PostgreSQL refuse both;
    SQLite would store 1e-400 as 0)."""
    return _matching(_DOUBLE)(values) and all(map(_representable, values))


def _representable(value: str) -> bool:
    number = float(value)
    if number == 0:
        return not value.lstrip("-").split("e")[0].split("E")[0].strip("0.")  # a zero, not an underflow
    return math.isfinite(number) and abs(number) >= sys.float_info.min


def _iso_check(pattern: re.Pattern, parse: Callable[[str], object]) -> Callable[[list[str]], bool]:
    shaped = _matching(pattern)

    def check(values: list[str]) -> bool:
        try:
            return shaped(values) and all(map(parse, values))  # dates and times are never false
        except ValueError:  # in the shape but out of range: 30 February, 25:00
            return False
    return check


def _check(column_type: ColumnType, lobs_inline: bool) -> Callable[[list[str]], bool]:
    kind = column_type.kind
    if column_type.is_lob and not lobs_inline:
        return _lob_check(column_type.length)
    if kind in ("CHAR", "VARCHAR", "CLOB"):
        return _text_check(column_type.length)
    if kind in ("BINARY", "VARBINARY"):
        return _binary_check(column_type.length, fixed=kind == "BINARY")
    if column_type.is_integer:
        return _integer_check(kind)
    if kind == "DECIMAL":
        return _decimal_check(column_type.precision, column_type.scale)
    if kind == "DOUBLE":
        return _double_check
    if kind == "DATE":
        return _iso_check(_DATE, date.fromisoformat)
    if kind == "TIME":
        return _iso_check(_TIME, time.fromisoformat)
    return _iso_check(_TIMESTAMP, datetime.fromisoformat)


def _problem(column_type: ColumnType, value: str, lobs_inline: bool) -> str:
    if column_type.is_lob and not lobs_inline:
        length = specifier_length(value)
        if length is None:
            return f"holds {value[:40]!r}, not the location of a {column_type.kind} value in the chunk's LOB file"
        return f"holds {length} bytes, more than its {column_type.text} can"
    if not column_type.is_text and not column_type.is_binary:
        return f"holds {value[:40]!r}, not a {column_type.text}"
    if "\0" in value and column_type.is_text:
        return "holds a NUL character, which PostgreSQL cannot store in text"
    if column_type.is_text and not value.isascii() and any("\udc80" <= c <= "\udcff" for c in value):
        return "holds bytes that are not UTF-8"
    if column_type.kind == "BINARY":
        return f"holds {len(text_bytes(value))} bytes, its {column_type.text} holds exactly {column_type.length}"
    return f"holds {len(text_bytes(value))} bytes, more than its {column_type.text} can"


class Fit:
    """The checks of some columns, in the order of the values of the rows it is given (rows may
    hold more values after them). `keys`: the columns that are part of the key, never NULL (SQLite
    would take a NULL there too). `lobs_inline`: a CLOB holds its text, not its place in a LOB file
    (the values of the fix-up)."""

    def __init__(self, columns: Sequence[tuple[str, str]], keys: Sequence[str] = (), lobs_inline: bool = False) -> None:
        self.columns = list(columns)
        self.keys = set(keys)
        self.lobs_inline = lobs_inline
        self._types = [parse_type(type_text) for _, type_text in self.columns]
        self._checks = [_check(column_type, lobs_inline) for column_type in self._types]

    def first_misfit(self, rows: Sequence[Sequence[str | None]]) -> Misfit | None:
        for position, ((name, _), column_type, check) in enumerate(zip(self.columns, self._types, self._checks)):
            column = list(map(itemgetter(position), rows))
            if name in self.keys and None in column:
                return Misfit(column.index(None), name, "is NULL, and it is part of the key")
            values = list(filter(_NOT_NULL, column))  # NULL fits any other column
            if not check(values):
                row = next(i for i, r in enumerate(rows) if r[position] is not None and not check([r[position]]))
                return Misfit(row, name, _problem(column_type, rows[row][position], self.lobs_inline))
        return None
